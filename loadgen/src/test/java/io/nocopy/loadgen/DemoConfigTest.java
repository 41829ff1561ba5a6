package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DemoConfigTest {
  @Test
  void defaultsAreTheDemoTheReadmeDescribes() throws Exception {
    DemoConfig c = DemoConfig.parse();
    assertEquals(10, c.mounts());
    assertEquals(10, c.listeners());
    assertEquals(2_000_000, c.bitsPerSecond());
    assertEquals(20, c.seconds());
    assertEquals(5, c.warmupSeconds());
    assertEquals(io.nocopy.internal.linux.IoUring.available()
        ? List.of("splice", "userspace", "userspace-uring") : List.of("splice", "userspace"), c.engines());
    assertEquals(250_000.0, c.bytesPerSecond());
  }

  @Test
  void flagsChangeEachSetting() throws Exception {
    DemoConfig c = DemoConfig.parse("--mounts", "3", "--listeners=7", "--rate", "500k", "--seconds", "4",
        "--warmup", "0", "--engines", "Userspace, splice,userspace-uring");
    assertEquals(new DemoConfig(3, 7, 500_000, 4, 0, List.of("userspace", "splice", "userspace-uring")), c);
  }

  @Test
  void ratesTakeBitUnits() {
    assertEquals(2_000_000, DemoConfig.parseRate("2mbit"));
    assertEquals(2_000_000, DemoConfig.parseRate("2M"));
    assertEquals(1_500_000, DemoConfig.parseRate("1.5mbit/s"));
    assertEquals(500_000, DemoConfig.parseRate("500kbit"));
    assertEquals(1_000_000_000, DemoConfig.parseRate("1g"));
    assertEquals(64_000, DemoConfig.parseRate("64000"));
    assertThrows(IllegalArgumentException.class, () -> DemoConfig.parseRate("fast"));
    assertThrows(IllegalArgumentException.class, () -> DemoConfig.parseRate("-1m"));
  }

  @Test
  void badFlagsAreNamed() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--bogus"))
        .getMessage().contains("unknown option --bogus"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--engines", "kernel"))
        .getMessage().contains("kernel"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--mounts", "0"))
        .getMessage().contains("--mounts"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--rate", "1k"))
        .getMessage().contains("--rate"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--seconds"))
        .getMessage().contains("needs a value"));
    assertThrows(DemoConfig.HelpRequested.class, () -> DemoConfig.parse("--help"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--icy-share", "2"))
        .getMessage().contains("--icy-share"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse("--icy-share", "some"))
        .getMessage().contains("--icy-share"));
  }

  @Test
  void anIcyShareIsSpreadOverEachMountsListeners() throws Exception {
    DemoConfig c = DemoConfig.parse("--listeners", "10", "--icy-share", "0.25");
    assertEquals(0.25, c.icyShare());
    List<Integer> icy = new java.util.ArrayList<>();
    for (int l = 0; l < 10; l++) {
      if (c.icy(l)) {
        icy.add(l);
      }
    }
    assertEquals(List.of(1, 5, 9), icy, "round(2.5) = 3 of 10, spread out");
    assertEquals(0.0, DemoConfig.parse().icyShare());
    assertTrue(!DemoConfig.parse().icy(0));
  }

  @Test
  void jsonFieldsAreRead() throws Exception {
    String j = "{\"cpu_ns\":123,\"neg\": -4,\"engine\":\"user\\\"space\",\"x\":{\"engine\":\"splice\"}}";
    assertEquals(123, Json.number(j, "cpu_ns"));
    assertEquals(-4, Json.number(j, "neg"));
    assertEquals("user\"space", Json.string(j, "engine"));
    assertEquals(List.of("user\"space", "splice"), Json.strings(j, "engine"));
    assertThrows(java.io.IOException.class, () -> Json.number(j, "missing"));
    assertThrows(java.io.IOException.class, () -> Json.number(j, "engine"));
  }
}
