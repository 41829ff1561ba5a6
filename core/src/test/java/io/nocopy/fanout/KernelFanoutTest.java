package io.nocopy.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nocopy.internal.linux.Native;
import io.nocopy.pipe.Net;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fan-out contract on the kernel transport (tee + splice), and its per-sink fallback. */
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

  @Test
  void aSinkWithoutADescriptorFallsBackToUserspaceUnlessKernelIsAsked() throws Exception {
    try (Pair s = Net.pair(Kind.TCP);
        WritableByteChannel out = Channels.newChannel(new ByteArrayOutputStream());
        Fanout f = builder().open(Source.channel(s.b()))) {
      assertThrows(IllegalArgumentException.class,
          () -> f.sink(out).transport(TransportKind.KERNEL).add());
      Sink fallback = f.add(out);
      assertEquals(TransportKind.USERSPACE, fallback.transport());
      assertEquals(TransportKind.KERNEL, f.transport());
    }
  }
}
