package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ProtocolException;
import org.junit.jupiter.api.Test;

class ProcStatsTest {
  private static final String STAT =
      "4242 (java) S 1 4242 4242 0 -1 4194560 18231 0 12 0 1234 567 0 0 20 0 31 0 9876 3650256896 52345 "
          + "18446744073709551615 1 1 0 0 0 0 0 2 16800975 0 0 0 17 1 0 0 0 0 0\n";

  @Test
  void cpuTicksAreUtimePlusStime() throws Exception {
    assertEquals(1234 + 567, ProcStats.cpuTicks(STAT));
  }

  @Test
  void commandNameWithSpacesAndParenthesesDoesNotShiftFields() throws Exception {
    String odd = STAT.replace("(java)", "(a) b (c d))");
    assertEquals(1801, ProcStats.cpuTicks(odd));
  }

  @Test
  void truncatedOrGarbledStatIsAProtocolError() {
    assertThrows(ProtocolException.class, () -> ProcStats.cpuTicks("4242 (java) S 1 2 3"));
    assertThrows(ProtocolException.class, () -> ProcStats.cpuTicks("no parenthesis here"));
    assertThrows(ProtocolException.class, () -> ProcStats.cpuTicks(STAT.replace(" 1234 ", " x ")));
  }

  @Test
  void statusKbFindsTheKeyNotAPrefixOfIt() throws Exception {
    String status = "Name:\ticecast2\nVmHWMX:\t1 kB\nVmPeak:\t  500000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n";
    assertEquals(23456, ProcStats.statusKb(status, "VmHWM"));
    assertEquals(20000, ProcStats.statusKb(status, "VmRSS"));
  }

  @Test
  void missingOrMalformedStatusValueIsAProtocolError() {
    assertThrows(ProtocolException.class, () -> ProcStats.statusKb("Name:\tx\n", "VmHWM"));
    assertThrows(ProtocolException.class, () -> ProcStats.statusKb("VmHWM:\t12 MB\n", "VmHWM"));
    assertThrows(ProtocolException.class, () -> ProcStats.statusKb("VmHWM:\tlots kB\n", "VmHWM"));
  }

  @Test
  void readsThisProcess() throws Exception {
    ProcStats me = new ProcStats(ProcessHandle.current().pid(), 100);
    assertTrue(me.alive());
    assertTrue(me.cpuNanos() > 0);
    assertTrue(me.peakRssBytes() > 1 << 20);
  }
}
