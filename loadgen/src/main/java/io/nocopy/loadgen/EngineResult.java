package io.nocopy.loadgen;

import java.util.List;

/**
 * What one demo run with one engine measured. Immutable.
 *
 * @param requested the {@code --engine} the relay was started with
 * @param used the engine the relay reported using (stats endpoint and mounts), or "?" if the run
 *     failed before it could be asked
 * @param windowNanos length of the steady-state window
 * @param deliveredBytes bytes the listeners received during the window
 * @param totalBytes bytes the listeners received over the whole run
 * @param relayCpuNanos the relay's CPU time during the window
 * @param relayAllocatedBytes the relay's heap allocation during the window (-1 if unknown)
 * @param relayGcCount the relay's garbage collections during the window
 * @param relayPeakRssBytes the relay's peak resident memory (-1 if unknown)
 * @param latency delivery latencies recorded during the window, all listeners merged
 * @param listenersVerified listeners whose every byte checked out, up to the source's last frame
 * @param listenersTotal listeners started
 * @param framesVerified complete frames checked over all listeners
 * @param sourceStalls times a source fell more than 250 ms behind its pace and skipped ahead
 * @param errors what went wrong, one line each, empty when the run is clean
 */
public record EngineResult(
    String requested,
    String used,
    long windowNanos,
    long deliveredBytes,
    long totalBytes,
    long relayCpuNanos,
    long relayAllocatedBytes,
    long relayGcCount,
    long relayPeakRssBytes,
    LatencyHistogram latency,
    int listenersVerified,
    int listenersTotal,
    long framesVerified,
    int sourceStalls,
    List<String> errors) {

  /** Copies the error list. */
  public EngineResult {
    errors = List.copyOf(errors);
  }

  /** @return true if every listener verified its bytes and nothing else failed */
  public boolean ok() {
    return errors.isEmpty() && listenersVerified == listenersTotal && listenersTotal > 0;
  }

  /** @return relay CPU seconds per delivered GB (10^9 bytes), NaN if nothing was delivered */
  public double cpuSecondsPerGb() {
    return deliveredBytes <= 0 ? Double.NaN : (relayCpuNanos / 1e9) / (deliveredBytes / 1e9);
  }
}
