package io.nocopy.bench.buffer;

import io.nocopy.bench.memory.BenchFlags;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Run settings shared by GoMem's five scenarios (JMH class annotations are inherited). Every
 * scenario has the same six contestants reading the same {@link MockNetwork}:
 *
 * <ul>
 *   <li>{@code seedBufio}: GoMem's bufio side as written: a new array per packet (and per
 *       subscriber), a {@code read} that may return less than asked;
 *   <li>{@code fairBufio}: the same buffered stream doing nocopy's work with reused arrays;
 *   <li>{@code nocopy}: {@link io.nocopy.buffer.BufReader} (and {@code Slice} for fan-out);
 *   <li>{@code netty}: composite cumulation and (retained) slices;
 *   <li>{@code okio}: a buffered source, bytes visited in place, segment sharing for fan-out;
 *   <li>{@code memcpyFloor}: the bytes copied once into native memory and nothing else (plus the
 *       same per-byte work where the scenario has some).
 * </ul>
 *
 * One thread each (the machine has two cores shared with other work); GoMem's RunParallel
 * connections are independent, so per-connection cost is what one thread measures.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchFlags.NATIVE_ACCESS,
      BenchFlags.UNSAFE,
      BenchFlags.NETTY_NO_LEAK_DETECTION,
      BenchFlags.HEAP,
      BenchFlags.HEAP_MAX,
      BenchFlags.EXECUTOR,
      BenchFlags.EXECUTOR_CLASS
    })
public abstract class BufferScenario {}
