package io.nocopy.buffer;

import io.nocopy.memory.Block;

/**
 * Takes chunks of pooled blocks together with one reference to each chunk's block: the callback of
 * {@link BufReader#readBlocks} and {@link Chunks#retainTo}, and what {@link Chunks} itself
 * implements to append. {@link ChunkConsumer} is the borrowing counterpart (a view valid during
 * one call); this one hands ownership over.
 *
 * <p>Ownership: from the moment {@link #accept} is called, the consumer owns one reference to
 * {@code block}, also when it throws; it releases that reference exactly once, from any thread,
 * when it no longer needs the bytes. Nobody writes the chunk's bytes while a reference is held.
 */
@FunctionalInterface
public interface BlockConsumer {
  /**
   * Takes one chunk. Chunks of one call sequence arrive in stream order; the same block may come
   * in several calls, each with its own reference.
   *
   * @param block the block holding the chunk; one reference is now the consumer's
   * @param offset the chunk's first byte within {@code block.segment()}
   * @param length the chunk's bytes, at least 1
   */
  void accept(Block block, int offset, int length);
}
