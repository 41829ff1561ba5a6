package io.nocopy.drpc;

import io.nocopy.memory.Tier;

/**
 * Settings of DRPC connections, shared by client and server. Immutable; build with {@link
 * #builder()}. The defaults are drpc's where drpc has one.
 *
 * @param maxPacketSize the largest packet (assembled message) accepted; larger is a protocol error
 *     (drpc's default 4 MiB)
 * @param maxFrameSize outgoing packets are split into frames carrying at most this many data bytes
 *     (drpc's default 64 KiB)
 * @param queueCapacity messages each stream may hold received but not yet taken by its consumer
 * @param overflowPolicy what a full receive queue does (see {@link OverflowPolicy})
 * @param readTier the tier of the blocks incoming bytes are read into; a received message is a view
 *     of these blocks (no copy), so it pins them until released
 * @param maxReadTier the largest block the data of one big frame may be read into: the part of a
 *     frame's data not yet buffered when its header is parsed comes from the tier that fits it, up
 *     to this one ({@link io.nocopy.buffer.BufReader#of(java.nio.channels.ReadableByteChannel,
 *     io.nocopy.memory.Allocator, Tier, Tier)}); {@code readTier} or above, default {@link
 *     #DEFAULT_MAX_READ_TIER}
 * @param virtualReaders whether each connection's reader runs on a virtual thread rather than a
 *     platform thread (the default). A platform reader blocks in the socket read itself and wakes
 *     straight from the kernel; a virtual reader goes through the JDK's poller on every wait
 *     (measured: slower per message, and it allocates per wake-up) but costs no platform thread,
 *     which matters for a server with thousands of connections
 * @param directUnary server side: whether a unary handler runs on the connection's reader thread,
 *     once its request has arrived, instead of on a virtual thread of its own (the default). It
 *     saves a thread start and two hand-overs per call, but while the handler runs the
 *     connection reads nothing: use it only for handlers that do not block (as gRPC's direct
 *     executor). Streaming handlers always get their own virtual thread
 */
public record DrpcOptions(
    int maxPacketSize,
    int maxFrameSize,
    int queueCapacity,
    OverflowPolicy overflowPolicy,
    Tier readTier,
    Tier maxReadTier,
    boolean virtualReaders,
    boolean directUnary) {

  /** drpc's default maximum packet: 4 MiB. */
  public static final int DEFAULT_MAX_PACKET = 4 << 20;

  /** drpc's default split size: 64 KiB. */
  public static final int DEFAULT_MAX_FRAME = 64 << 10;

  /** Default receive queue capacity per stream. */
  public static final int DEFAULT_QUEUE_CAPACITY = 64;

  /**
   * Default largest read block: {@link Tier#GREAT} (512 KiB). A 4 MiB frame is then about eight
   * blocks; a bigger tier would make the pools hold fewer, larger blocks for rare messages.
   */
  public static final Tier DEFAULT_MAX_READ_TIER = Tier.GREAT;

  /** The defaults. */
  public static final DrpcOptions DEFAULTS = builder().build();

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if a size or capacity is not positive
   */
  public DrpcOptions {
    if (maxPacketSize < 1 || maxFrameSize < 1 || queueCapacity < 1) {
      throw new IllegalArgumentException(
          "sizes and capacity must be positive: maxPacketSize=" + maxPacketSize + " maxFrameSize="
              + maxFrameSize + " queueCapacity=" + queueCapacity);
    }
    if (overflowPolicy == null || readTier == null || maxReadTier == null) {
      throw new IllegalArgumentException("overflowPolicy, readTier and maxReadTier are required");
    }
    if (maxReadTier.compareTo(readTier) < 0 || maxReadTier.size() > (1 << 30)) {
      throw new IllegalArgumentException(
          "maxReadTier " + maxReadTier + " must be between readTier " + readTier + " and 1 GiB");
    }
  }

  /**
   * Options with platform reader threads and unary handlers on their own threads (the form before
   * {@code virtualReaders} and {@code directUnary} existed).
   *
   * @param maxPacketSize as the record component
   * @param maxFrameSize as the record component
   * @param queueCapacity as the record component
   * @param overflowPolicy as the record component
   * @param readTier as the record component
   * @param maxReadTier as the record component
   * @throws IllegalArgumentException if a value is out of range
   */
  public DrpcOptions(
      int maxPacketSize,
      int maxFrameSize,
      int queueCapacity,
      OverflowPolicy overflowPolicy,
      Tier readTier,
      Tier maxReadTier) {
    this(maxPacketSize, maxFrameSize, queueCapacity, overflowPolicy, readTier, maxReadTier, false,
        false);
  }

  /**
   * Options with the largest read block equal to {@code readTier}'s or {@link
   * #DEFAULT_MAX_READ_TIER}, whichever is larger (the form before {@code maxReadTier} existed).
   *
   * @param maxPacketSize as the record component
   * @param maxFrameSize as the record component
   * @param queueCapacity as the record component
   * @param overflowPolicy as the record component
   * @param readTier as the record component
   * @throws IllegalArgumentException if a value is out of range
   */
  public DrpcOptions(
      int maxPacketSize,
      int maxFrameSize,
      int queueCapacity,
      OverflowPolicy overflowPolicy,
      Tier readTier) {
    this(maxPacketSize, maxFrameSize, queueCapacity, overflowPolicy, readTier,
        defaultMaxReadTier(readTier));
  }

  /** {@link #DEFAULT_MAX_READ_TIER}, or {@code readTier} if that is larger. */
  private static Tier defaultMaxReadTier(Tier readTier) {
    return readTier != null && readTier.compareTo(DEFAULT_MAX_READ_TIER) > 0
        ? readTier : DEFAULT_MAX_READ_TIER;
  }

  /**
   * A builder starting from the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder starting from these values.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxPacketSize = maxPacketSize;
    b.maxFrameSize = maxFrameSize;
    b.queueCapacity = queueCapacity;
    b.overflowPolicy = overflowPolicy;
    b.readTier = readTier;
    b.maxReadTier = maxReadTier;
    b.virtualReaders = virtualReaders;
    b.directUnary = directUnary;
    return b;
  }

  /** Builds {@link DrpcOptions}; not thread-safe. */
  public static final class Builder {
    private int maxPacketSize = DEFAULT_MAX_PACKET;
    private int maxFrameSize = DEFAULT_MAX_FRAME;
    private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    private OverflowPolicy overflowPolicy = OverflowPolicy.BLOCK;
    private Tier readTier = Tier.BIG;
    private Tier maxReadTier; // null: DEFAULT_MAX_READ_TIER, or readTier if that is larger
    private boolean virtualReaders;
    private boolean directUnary;

    private Builder() {}

    /**
     * Sets the largest accepted packet.
     *
     * @param bytes at least 1
     * @return this builder
     */
    public Builder maxPacketSize(int bytes) {
      this.maxPacketSize = bytes;
      return this;
    }

    /**
     * Sets the largest outgoing frame payload.
     *
     * @param bytes at least 1
     * @return this builder
     */
    public Builder maxFrameSize(int bytes) {
      this.maxFrameSize = bytes;
      return this;
    }

    /**
     * Sets the per-stream receive queue capacity.
     *
     * @param messages at least 1
     * @return this builder
     */
    public Builder queueCapacity(int messages) {
      this.queueCapacity = messages;
      return this;
    }

    /**
     * Sets the full-queue policy.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder overflowPolicy(OverflowPolicy policy) {
      this.overflowPolicy = policy;
      return this;
    }

    /**
     * Sets the tier of read blocks.
     *
     * @param tier the tier
     * @return this builder
     */
    public Builder readTier(Tier tier) {
      this.readTier = tier;
      return this;
    }

    /**
     * Sets the largest block one frame's data may be read into (unset: {@link
     * #DEFAULT_MAX_READ_TIER}, or the read tier if that is larger).
     *
     * @param tier the tier, at least the read tier
     * @return this builder
     */
    public Builder maxReadTier(Tier tier) {
      this.maxReadTier = tier;
      return this;
    }

    /**
     * Sets whether connections read on virtual threads (default: platform threads).
     *
     * @param virtual true for a virtual reader thread per connection
     * @return this builder
     */
    public Builder virtualReaders(boolean virtual) {
      this.virtualReaders = virtual;
      return this;
    }

    /**
     * Sets whether a server runs unary handlers on the connection's reader thread (default: each
     * on a virtual thread of its own). Only for handlers that do not block.
     *
     * @param direct true to run unary handlers on the reader thread
     * @return this builder
     */
    public Builder directUnary(boolean direct) {
      this.directUnary = direct;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if a value is out of range
     */
    public DrpcOptions build() {
      Tier max = maxReadTier != null ? maxReadTier : defaultMaxReadTier(readTier);
      return new DrpcOptions(maxPacketSize, maxFrameSize, queueCapacity, overflowPolicy, readTier,
          max, virtualReaders, directUnary);
    }
  }
}
