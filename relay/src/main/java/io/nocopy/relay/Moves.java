package io.nocopy.relay;

import io.nocopy.relay.format.FormatScanner;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Listeners of one mount waiting to leave it for another mount (an admin's {@code moveclients}, a
 * returning source that takes its listeners back from its fallback), each on the next boundary of
 * the stream's format so that its player goes on decoding: a frame sync (MP3, ADTS) or an Ogg
 * page. The mount's format scanner finds boundaries as the source's bytes pass (the fan-out's
 * tap, which runs before the chunk it scans reaches any listener); the first boundary found in
 * a chunk after a move was asked for is where every waiting listener's stream stops. A format
 * without boundaries moves its listeners at once, between two chunks.
 *
 * <p>The listener's own connection does the rest: its sink ends detached, its socket still open,
 * and it joins the destination ({@link ListenerConnection}). If the source ends first, the
 * listener still goes to the destination it was moved to.
 *
 * <p>Thread safety: {@link #request} from any thread; {@link #scanned} on the mount's source
 * thread only (the tap). Costs nothing per chunk while nobody waits (one volatile read).
 */
final class Moves {
  private final FormatScanner scanner;
  private final boolean aligned; // the scanner finds boundaries (its tap runs)
  private final ConcurrentLinkedQueue<MountFanout.Attached> waiting = new ConcurrentLinkedQueue<>();
  private volatile boolean any;

  /**
   * @param scanner the mount's format scanner
   * @param aligned whether the scanner is the fan-out's tap (false for a format without
   *     boundaries: moves happen at once)
   */
  Moves(FormatScanner scanner, boolean aligned) {
    this.scanner = scanner;
    this.aligned = aligned;
  }

  /**
   * Moves a listener to {@code destination} at the next boundary of the stream.
   *
   * @param listener a listener of this mount
   * @param destination the mount it goes to
   */
  void request(MountFanout.Attached listener, Mount destination) {
    listener.moveTo(destination);
    if (!aligned) {
      listener.detachNow();
      return;
    }
    waiting.add(listener);
    any = true;
  }

  /**
   * The tap, after the scanner read bytes from stream position {@code before} on: a boundary it
   * found among them is where waiting listeners leave.
   *
   * @param before the scanner's position before those bytes
   */
  void scanned(long before) {
    if (!any) {
      return;
    }
    FormatScanner.Start s = scanner.startAtOrAfter(before);
    if (s == null || s.position() < before) {
      return;
    }
    any = false;
    for (MountFanout.Attached a; (a = waiting.poll()) != null; ) {
      if (!a.detachAt(s.position())) {
        a.detachNow(); // not given bytes past a boundary of this chunk: only an ended sink refuses
      }
    }
    if (!waiting.isEmpty()) {
      any = true; // asked while this chunk was being scanned: the next boundary
    }
  }
}
