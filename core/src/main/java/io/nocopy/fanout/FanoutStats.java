package io.nocopy.fanout;

/**
 * A snapshot of one fan-out's counters ({@link Fanout#stats()}); each counter belongs to its
 * fan-out alone.
 *
 * @param bytesIn bytes read from the source
 * @param chunks steps of the source thread (chunks delivered to every sink)
 * @param bytesDirect bytes the source thread wrote straight to idle sinks' channels
 * @param bytesByWriters bytes sinks' own writer threads wrote (backlogs, prefixes, files)
 * @param bytesInserted bytes inserted by {@link Insertions} hooks
 * @param sinksAdded sinks added so far
 * @param sinksActive sinks receiving now
 * @param dropsTooSlow sinks dropped for falling more than their bound behind
 * @param dropsFailed sinks ended by a write error
 * @param sourceHeldNanos time the source thread waited before reading because every sink was
 *     behind (backpressure on the source)
 * @param coalesceNanos the coalescing window now (fixed, or chosen for the source's rate), 0 for
 *     none
 * @param sourceRate the source's rate in bytes per second as the pacer last measured it (a moving
 *     average over about a second), 0 before the first measurement or without coalescing
 */
public record FanoutStats(
    long bytesIn,
    long chunks,
    long bytesDirect,
    long bytesByWriters,
    long bytesInserted,
    long sinksAdded,
    int sinksActive,
    long dropsTooSlow,
    long dropsFailed,
    long sourceHeldNanos,
    long coalesceNanos,
    long sourceRate) {}
