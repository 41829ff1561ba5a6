package io.nocopy.memory;

import java.io.IOException;

/**
 * Thrown when a bounded pool or allocator could not supply a block within the time allowed. The
 * message names the limit that was reached (tier, capacity, blocks in use, byte cap) and how long
 * the caller waited, so that the right limit can be raised.
 */
public final class PoolExhaustedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Tier tier;

  /**
   * Creates the exception.
   *
   * @param tier the tier that was exhausted
   * @param message the full description of the limit reached
   */
  public PoolExhaustedException(Tier tier, String message) {
    super(message);
    this.tier = tier;
  }

  /**
   * The tier that had no free block.
   *
   * @return the exhausted tier
   */
  public Tier tier() {
    return tier;
  }
}
