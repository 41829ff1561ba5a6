package io.nocopy.bench.memory;

import org.openjdk.jmh.annotations.Fork;

/**
 * {@link BlockPoolScalingProbe} with workers from {@link StripeZeroAvoidingExecutor}: no thread
 * uses {@code BlockPool}'s stripe 0 (on a 2-core machine). Compare its two-thread throughput with
 * the plain probe's: a rise means stripe 0 false-shares with the stripes array's header. The
 * stripes are padded away from that header, so the two must match: this probe is the regression
 * check for that padding (without it, it runs about 3x faster on two threads than the plain one).
 *
 * <p>Ownership: as {@link BlockPoolScalingProbe}.
 */
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchFlags.NATIVE_ACCESS,
      BenchFlags.UNSAFE,
      BenchFlags.NETTY_NO_LEAK_DETECTION,
      BenchFlags.HEAP,
      BenchFlags.HEAP_MAX,
      BenchFlags.EXECUTOR,
      "-Djmh.executor.class=io.nocopy.bench.memory.StripeZeroAvoidingExecutor"
    })
public class BlockPoolScalingProbeOffStripeZero extends BlockPoolScalingProbe {}
