package io.nocopy.bench.memory;

/**
 * One buffer pool under test, seen through the two calls every benchmark in this package makes:
 * take a buffer, give it back.
 *
 * <p>Ownership: {@link #acquire()} hands the caller one buffer (a {@code Block}, a Netty {@code
 * ByteBuf}, a direct {@code ByteBuffer} or an {@code Arena}, depending on the implementation); the
 * caller owns it until it passes that same object to {@link #release(Object)} exactly once. The
 * benchmark owns the pool and closes it at the end of its trial, after every buffer came back.
 *
 * <p>Each JMH fork creates exactly one implementation, so the calls through this abstract class
 * are monomorphic there and the JIT inlines them: the abstraction costs a type check, not a
 * virtual call. Implementations are thread-safe unless a subclass says otherwise.
 */
public abstract class BufferPool implements AutoCloseable {
  private final String name;
  private final int requestedBytes;

  /**
   * @param name the implementation's name as the benchmarks' {@code impl} parameter spells it
   * @param requestedBytes the size every {@link #acquire()} asks for
   */
  BufferPool(String name, int requestedBytes) {
    this.name = name;
    this.requestedBytes = requestedBytes;
  }

  /**
   * Takes one buffer of at least {@link #requestedBytes()} bytes.
   *
   * @return the buffer, owned by the caller until it is passed to {@link #release(Object)}
   * @throws IllegalStateException if a bounded pool is empty (the benchmarks size every pool so
   *     that this cannot happen; if it does, the measurement is void)
   */
  public abstract Object acquire();

  /**
   * Gives back a buffer that {@link #acquire()} of this pool returned; the caller must not touch it
   * afterwards.
   *
   * @param buffer the buffer, released exactly once
   */
  public abstract void release(Object buffer);

  /**
   * Buffers handed out and not yet released, for the end-of-trial check that the benchmark gave
   * every buffer back; -1 where the implementation cannot tell (Netty, Arena).
   *
   * @return buffers in use, or -1
   */
  public abstract long inUse();

  /**
   * The bytes one acquired buffer really holds (nocopy rounds up to its tier, 256 B becomes 512 B).
   *
   * @return the buffer size in bytes
   */
  public abstract long bufferBytes();

  /** Frees the pool's memory. Buffers still held are invalid afterwards. */
  @Override
  public abstract void close();

  /**
   * Closes the pool after checking that the benchmark gave every buffer back: the end of every
   * trial.
   *
   * @throws IllegalStateException if buffers are still in use (the benchmark leaked, so its result
   *     is void); the pool is closed anyway
   */
  public final void closeChecked() {
    long held = inUse();
    close();
    if (held > 0) {
      throw new IllegalStateException(name + ": " + held + " buffers not released after the trial");
    }
  }

  /**
   * The implementation's name, as in {@link PoolKind#label()}.
   *
   * @return the name
   */
  public final String name() {
    return name;
  }

  /**
   * The size each {@link #acquire()} asks for.
   *
   * @return bytes requested per buffer
   */
  public final int requestedBytes() {
    return requestedBytes;
  }

  static IllegalStateException empty(String name, int size) {
    return new IllegalStateException(
        name + " pool of " + size + " B buffers ran empty: the benchmark's pool capacity is too small");
  }
}
