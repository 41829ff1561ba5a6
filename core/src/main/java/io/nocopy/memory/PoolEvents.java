package io.nocopy.memory;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** JFR events of the memory layer: waits for an exhausted pool, and blocks leaked at close. */
final class PoolEvents {
  private PoolEvents() {}

  @Name("io.nocopy.PoolExhaustionWait")
  @Label("Pool Exhaustion Wait")
  @Category({"nocopy", "Memory"})
  @Description("A thread waited for a block because its pool had none free")
  @StackTrace(true)
  static final class ExhaustionWait extends Event {
    @Label("Tier")
    String tier;

    @Label("Capacity")
    int capacity;

    @Label("Succeeded")
    boolean succeeded;

    @Label("Waited")
    @Timespan(Timespan.NANOSECONDS)
    long waitedNanos;
  }

  @Name("io.nocopy.BlockLeak")
  @Label("Block Leak")
  @Category({"nocopy", "Memory"})
  @Description("A block was still in use when its pool was closed")
  @StackTrace(false)
  static final class Leak extends Event {
    @Label("Tier")
    String tier;

    @Label("Block Index")
    int index;

    @Label("Acquired At")
    String acquiredAt;
  }
}
