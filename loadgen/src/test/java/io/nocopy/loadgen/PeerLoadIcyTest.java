package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PeerLoad} with half of its listeners asking for ICY metadata, against a nocopy relay child
 * process on each engine (~6 s each): every listener verifies, the ICY ones see the titles change.
 */
class PeerLoadIcyTest {
  @ParameterizedTest(name = "engine={0}")
  @ValueSource(strings = {"splice", "userspace"})
  void icyListenersVerifyTheAudioAndSeeTheTitlesChange(String engine) throws Exception {
    try (RelayProcess relay = RelayProcess.start(engine, 16)) {
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      int status = PeerLoad.run(new PrintStream(log, true, StandardCharsets.UTF_8),
          "--target", "127.0.0.1:" + relay.address().getPort(), "--pid", Long.toString(relay.pid()),
          "--password", relay.password(), "--listeners", "4", "--icy-share", "0.5", "--rate", "2mbit",
          "--seconds", "3", "--warmup", "1", "--name", "nocopy " + engine);
      String out = log.toString(StandardCharsets.UTF_8);
      assertEquals(0, status, out);
      String row = out.lines().filter(l -> l.startsWith("ROW\t")).findFirst().orElseThrow();
      String[] f = row.split("\t", -1);
      assertEquals("4/4 clean, 4 to the end", f[13], row);
      assertEquals("2 (50%)", f[15], row);
      Matcher m = Pattern.compile("(\\d+) set, each ICY listener saw >= (\\d+)").matcher(f[16]);
      assertTrue(m.matches(), row);
      assertTrue(Integer.parseInt(m.group(1)) >= 3, row);
      assertTrue(Integer.parseInt(m.group(2)) >= 2, "titles seen: " + row);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-0.1", "1.5", "NaN", "a quarter"})
  void aShareOutsideZeroToOneIsRefused(String share) throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int status = PeerLoad.run(new PrintStream(log, true, StandardCharsets.UTF_8),
        "--target", "127.0.0.1:1", "--pid", "1", "--icy-share", share);
    String out = log.toString(StandardCharsets.UTF_8);
    assertEquals(2, status, out);
    assertTrue(out.contains("--icy-share"), out);
    assertFalse(out.contains("ROW"), out);
  }
}
