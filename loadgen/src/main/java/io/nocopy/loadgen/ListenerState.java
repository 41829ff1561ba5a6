package io.nocopy.loadgen;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What one synthetic listener knows about its stream, whichever way it reads it ({@link
 * SyntheticListener}: a thread and a blocking socket each; {@link ListenerCrowd.Member}: many on a
 * selector thread): whether its answer came, how many bytes it received, whether it ended and why
 * it failed, and its {@link FrameVerifier}, behind an {@link IcyStream} for an ICY listener. The
 * rules of the verdict are here once: which answer starts the body, where the body's bytes go, and
 * what an end of the stream or a broken connection means while the source is live or stopping.
 *
 * <p>Thread safety: one thread reads the stream and calls the mutators; the accessors may be read
 * from any thread (the fields are volatile; the verifier belongs to the reading thread until the
 * listener ended).
 */
abstract class ListenerState {
  /** The mount listened to, e.g. {@code /mount1}. */
  final String mount;
  /** Whether the listener asks for ICY metadata. */
  final boolean icy;
  /** Checks every byte of the audio. */
  final FrameVerifier verifier;
  private volatile IcyStream icyStream; // an ICY listener's, once its answer came
  private volatile boolean connected;
  private volatile boolean ended;
  private volatile long received;
  private volatile String failure;

  /**
   * @param mount the mount listened to
   * @param icy whether it asks for ICY metadata
   * @param latency where the verifier records latencies
   */
  ListenerState(String mount, boolean icy, LatencyHistogram latency) {
    this.mount = mount;
    this.icy = icy;
    this.verifier = new FrameVerifier(latency);
  }

  /**
   * Takes the response head: the body is read after a 200 that, for an ICY listener, gives a valid
   * {@code icy-metaint}; otherwise the listener fails, naming the answer.
   *
   * @param ok whether the status was 200
   * @param statusLine the answer's status line
   * @param icyMetaint the answer's {@code icy-metaint}, or null
   * @return true if the body is to be read
   */
  final boolean answered(boolean ok, String statusLine, String icyMetaint) {
    if (!ok) {
      fail("GET " + mount + " answered '" + statusLine + "'");
      return false;
    }
    if (icy) {
      int metaint = IcyStream.metaint(icyMetaint);
      if (metaint < 1) {
        fail("GET " + mount + " with Icy-MetaData: 1 answered without a valid icy-metaint ('" + icyMetaint
            + "')");
        return false;
      }
      icyStream = new IcyStream(metaint, verifier);
    }
    connected = true;
    return true;
  }

  /**
   * Takes body bytes: all of {@code buf}'s remaining ones, through the ICY stream if there is one.
   *
   * @param buf bytes just read, consumed
   * @param nowNanos when they were read
   * @param measuring whether latencies are recorded now
   */
  final void body(ByteBuffer buf, long nowNanos, boolean measuring) {
    int got = buf.remaining();
    IcyStream strip = icyStream;
    if (strip != null) {
      strip.accept(buf, nowNanos, measuring);
    } else {
      verifier.accept(buf, nowNanos, measuring);
    }
    received += got;
  }

  /**
   * The relay ended the body: expected once the source is stopping (the verifier then checks that
   * the last frame was whole), a failure while it is live.
   *
   * @param stopping whether the source is being stopped
   */
  final void bodyEnded(boolean stopping) {
    if (!stopping) {
      fail("the relay ended the stream after " + received + " bytes while the source was live");
    } else {
      verifier.end("the source stopped");
    }
  }

  /**
   * The connection broke: before the answer, or while the source was live or stopping.
   *
   * @param e what broke it
   * @param stopping whether the source is being stopped
   */
  final void broke(IOException e, boolean stopping) {
    if (connected && stopping) {
      fail("stream broke while the source was stopping: " + e);
    } else {
      fail((connected ? "" : "GET " + mount + ": ") + e);
    }
  }

  /** Records why the listener failed, unless it failed already (the first reason stays). */
  final void fail(String why) {
    if (failure == null) {
      failure = why;
    }
  }

  /** Marks the listener finished (stream ended, failed or closed). */
  final void markEnded() {
    ended = true;
  }

  /** @return whether the response head was a 200 and the body is being read */
  final boolean connected() {
    return connected && !ended;
  }

  /** @return whether the listener has finished (stream ended, failed or closed) */
  final boolean ended() {
    return ended;
  }

  /** @return the ICY metadata read so far, or null (not an ICY listener, or no answer yet) */
  final IcyStream icyStream() {
    return icyStream;
  }

  /** @return body bytes received so far, metadata blocks included (racy progress figure) */
  final long received() {
    return received;
  }

  /** @return why the listener failed apart from the verifier's verdict, or null */
  final String failure() {
    return failure;
  }
}
