package io.nocopy.bench.drpc;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.drpc.OverflowPolicy;
import io.nocopy.drpc.ReceiveQueue;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The per-stream receive queue alone, one thread: enqueue, dequeue and release of one message.
 * {@code queueOnly} moves a token (the queue's own cost); {@code queueSlice} moves a pooled
 * {@link Slice} handle that is retained before and closed after (the ownership traffic a message
 * causes); {@code arrayBlockingQueue} is the JDK's bounded queue doing the same as {@code
 * queueOnly}.
 *
 * <p>Run: {@code ./nocopy bench 'drpc.QueueBenchmark' -f 1 -wi 3 -w 1s -i 5 -r 1s}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class QueueBenchmark {
  private static final Object TOKEN = new Object();

  private final ReceiveQueue<Object> queue = new ReceiveQueue<>(64, OverflowPolicy.BLOCK, o -> {});
  private final ArrayBlockingQueue<Object> abq = new ArrayBlockingQueue<>(64);
  private ReceiveQueue<Slice> sliceQueue;
  private Allocator alloc;
  private BufReader reader;
  private Slice source;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    alloc = Allocator.create();
    sliceQueue = new ReceiveQueue<>(64, OverflowPolicy.BLOCK, Slice::close);
    ReadableByteChannel zeros =
        new ReadableByteChannel() {
          @Override
          public int read(ByteBuffer dst) {
            int n = dst.remaining();
            dst.position(dst.limit());
            return n;
          }

          @Override
          public boolean isOpen() {
            return true;
          }

          @Override
          public void close() {}
        };
    reader = BufReader.of(zeros, alloc, Tier.MICRO);
    source = reader.readSlice(64);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    source.close();
    reader.close();
    alloc.close();
  }

  @Benchmark
  public Object queueOnly() throws Exception {
    queue.enqueue(TOKEN);
    return queue.dequeue();
  }

  @Benchmark
  public long queueSlice() throws Exception {
    sliceQueue.enqueue(source.retain());
    try (Slice s = sliceQueue.dequeue()) {
      return s.length();
    }
  }

  @Benchmark
  public Object arrayBlockingQueue() throws Exception {
    abq.put(TOKEN);
    return abq.take();
  }
}
