package io.nocopy.fanout;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nocopy.internal.linux.Native;
import org.junit.jupiter.api.BeforeEach;

/** The fan-out contract on the kernel transport (tee + splice). */
class KernelFanoutTest extends FanoutContract {
  @BeforeEach
  void needsAcceleration() {
    assumeTrue(Native.ACCELERATED, "splice acceleration is off: " + Native.whyNot());
  }

  @Override
  long allocationPerChunkLimit() {
    return 64; // nothing per sink (a tee and a splice each), a few bytes per chunk at most
  }

  @Override
  TransportKind kind() {
    return TransportKind.KERNEL;
  }
}
