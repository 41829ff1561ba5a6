package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * PeerLoad's listener crowd against a real relay child process: hundreds of listeners on two
 * selector threads, connected at a paced rate, every byte verified, the crowd's own CPU reported
 * apart; and a relay that drops listeners is reported as such.
 */
class PeerLoadCrowdTest {
  @Test
  void aCrowdOfListenersVerifiesEveryByteAndReportsItsOwnCpu() throws Exception {
    try (RelayProcess relay = RelayProcess.start("userspace", 400)) {
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      int status = PeerLoad.run(new PrintStream(log, true, StandardCharsets.UTF_8),
          "--target", "127.0.0.1:" + relay.address().getPort(), "--pid", Long.toString(relay.pid()),
          "--password", relay.password(), "--listeners", "300", "--rate", "256k", "--seconds", "2",
          "--warmup", "1", "--threads", "2", "--connect-rate", "500", "--connect-pending", "16",
          "--name", "crowd");
      String text = log.toString(StandardCharsets.UTF_8);
      assertEquals(0, status, text);
      assertTrue(text.contains("[crowd] 300 listeners connected in"), text);
      assertTrue(text.contains("300/300 clean (300 to the end"), text);
      String row = text.lines().filter(l -> l.startsWith("ROW\t")).findFirst().orElseThrow();
      String[] f = row.split("\t", -1);
      assertEquals("300", f[2]);
      assertTrue(Double.parseDouble(f[4]) > 0, "delivered MB/s: " + row);
      assertTrue(Double.parseDouble(f[f.length - 1]) >= 0, "the crowd's CPU %: " + row);
    }
  }

  @Test
  void listenersTheRelayDropsAreNotClean() throws Exception {
    // a queue smaller than what arrives between two of a listener's reads cannot be kept: the
    // relay refuses the flag, so instead its listener cap leaves the last listeners unanswered
    try (RelayProcess relay = RelayProcess.start("userspace", 5)) {
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      int status = PeerLoad.run(new PrintStream(log, true, StandardCharsets.UTF_8),
          "--target", "127.0.0.1:" + relay.address().getPort(), "--pid", Long.toString(relay.pid()),
          "--password", relay.password(), "--listeners", "8", "--rate", "256k", "--seconds", "1",
          "--warmup", "0", "--name", "capped");
      String text = log.toString(StandardCharsets.UTF_8);
      assertEquals(3, status, text);
      assertTrue(text.contains("failed to connect"), text);
      assertTrue(text.contains("answered 'HTTP/1.0 503") || text.contains("answered 'HTTP/1.1 503"), text);
    }
  }
}
