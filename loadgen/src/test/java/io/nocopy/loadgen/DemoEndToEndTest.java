package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The demo against a real relay child process: 2 mounts x 2 listeners, both engines and a faulty source, ~14 s. */
class DemoEndToEndTest {
  private static int openFds() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }

  @Test
  void theDemoDeliversAndVerifiesEveryByteWithEachEngine() throws Exception {
    // One throwaway run so that lazily opened JDK descriptors exist before the baseline.
    // one listener of each mount asks for ICY metadata and verifies the audio between the blocks
    DemoConfig config = new DemoConfig(2, 2, 2_000_000, 2, 1, List.of("userspace"), 0.5);
    new DemoRun(new DemoConfig(1, 1, 2_000_000, 1, 0, List.of("userspace")), "userspace",
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run();
    int fdsBefore = openFds();

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
    EngineResult r = new DemoRun(config, "userspace", out).run();
    assertTrue(r.ok(), () -> "errors " + r.errors() + "\n" + log);
    assertEquals("userspace", r.used());
    assertEquals(4, r.listenersVerified());
    assertTrue(r.deliveredBytes() > 0, "nothing delivered in the window");
    // 4 listeners x 250 kB/s x ~2 s, with generous room for a loaded machine
    assertTrue(r.deliveredBytes() > 1_000_000, "delivered only " + r.deliveredBytes());
    assertTrue(r.framesVerified() * Frames.SIZE <= r.totalBytes());
    assertTrue(r.latency().count() > 0);
    assertTrue(r.relayCpuNanos() > 0);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("[userspace]   3s measuring"), text);
    assertTrue(text.contains("engine requested userspace, used userspace"), text);

    // The whole command, with the other engine: exit status 0 and the engine it really used.
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    int status = DemoMain.run(new PrintStream(all, true, StandardCharsets.UTF_8),
        "--mounts", "2", "--listeners", "2", "--seconds", "2", "--warmup", "1", "--engines", "splice");
    String report = all.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, report);
    assertTrue(report.contains("engine requested splice, used "), report);
    assertFalse(report.contains("-uring"), report);
    assertTrue(report.contains("listeners verified             | 4 / 4"), report);
    assertFalse(report.contains("error:"), report);

    // io_uring sends where they work: "userspace" above ran with --io-uring off
    if (io.nocopy.internal.linux.IoUring.available()) {
      ByteArrayOutputStream ulog = new ByteArrayOutputStream();
      EngineResult u = new DemoRun(new DemoConfig(1, 2, 2_000_000, 1, 1, List.of("userspace-uring")),
          "userspace-uring", new PrintStream(ulog, true, StandardCharsets.UTF_8)).run();
      assertTrue(u.ok(), () -> "errors " + u.errors() + "\n" + ulog);
      assertEquals("userspace-uring", u.used(), ulog::toString);
    }

    // A source that leaves out a frame: every listener must name the gap, and the run fails.
    EngineResult gap = new DemoRun(new DemoConfig(1, 2, 2_000_000, 1, 1, List.of("userspace")), "userspace",
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).skippingFrame().run();
    assertFalse(gap.ok());
    assertEquals(0, gap.listenersVerified(), gap.errors().toString());
    assertEquals(2, gap.errors().size(), gap.errors().toString());
    for (int i = 0; i < 2; i++) {
      Matcher m = Pattern.compile("listener " + (i + 1) + " of /mount1: expected frame (\\d+), got frame (\\d+) "
          + "\\(1 frame\\(s\\) missing\\)").matcher(gap.errors().get(i));
      assertTrue(m.matches(), gap.errors().get(i));
      assertEquals(Long.parseLong(m.group(1)) + 1, Long.parseLong(m.group(2)));
    }

    assertEquals(List.of(), ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList(),
        "a relay process outlived its run");
    assertEquals(fdsBefore, openFds(), "file descriptors leaked");
  }
}
