package io.nocopy.relay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;

/**
 * Reads the codecs of an Ogg mount ({@link StreamCodecs}) from its first pages: a sink of the
 * mount's fan-out, added before the stream starts, that keeps at most {@value #MAX_BYTES} bytes,
 * sets {@code Mount.codecs} once they are known, and then closes itself, which ends its sink (the
 * fan-out sees a closed channel). It is not a listener: it is not counted or logged as one.
 *
 * <p>A channel without a descriptor: on the kernel transport the fan-out serves it in userspace,
 * one copy of each chunk while it lives, which is the first chunk or two of the stream; the
 * listeners' bytes still never enter the JVM.
 *
 * <p>Thread safety: written by one thread at a time (the fan-out's source thread or the sink's
 * writer, handed over under the fan-out's rules).
 */
final class CodecProbe implements WritableByteChannel {
  private static final System.Logger LOG = System.getLogger(CodecProbe.class.getName());
  /** The most bytes looked at: beginning-of-stream pages are small (Vorbis' is 58 bytes). */
  static final int MAX_BYTES = 16 * 1024;

  private final Mount mount;
  private final byte[] seen = new byte[MAX_BYTES];
  private int length;
  private volatile boolean open = true;

  private CodecProbe(Mount mount) {
    this.mount = mount;
  }

  /**
   * Adds a probe to an Ogg mount whose stream has not started yet; does nothing for other
   * formats. A probe that cannot be added is logged; the status then lacks the codec fields.
   *
   * @param mount the new mount
   */
  static void watch(Mount mount) {
    if (!StreamCodecs.isOgg(mount.contentType)) {
      return;
    }
    try {
      mount.fanout.attach("codec probe", new CodecProbe(mount), new byte[0], MountFanout.Role.LISTENER);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "{0}: cannot read the stream''s codecs: {1}", mount.name,
          e.getMessage());
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    int n = src.remaining();
    int take = Math.min(n, MAX_BYTES - length);
    src.get(seen, length, take);
    length += take;
    src.position(src.limit()); // what does not fit is not needed
    StreamCodecs codecs = StreamCodecs.parse(seen, length);
    if (codecs == null && length == MAX_BYTES) {
      codecs = StreamCodecs.NONE; // not Ogg as we know it: give up
    }
    if (codecs != null) {
      mount.codecs = codecs;
      open = false;
    }
    return n;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }
}
