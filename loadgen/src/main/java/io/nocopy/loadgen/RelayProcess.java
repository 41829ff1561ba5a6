package io.nocopy.loadgen;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The relay under test, run as a child JVM on 127.0.0.1 so that its CPU time, allocation and
 * garbage collections are its own and not the load generator's. Started with the same java, class
 * path and JVM options as {@code ./nocopy relay}; its output goes to a temporary log file that is
 * shown when it fails and deleted on {@link #close()}. Every live child is also destroyed by a
 * shutdown hook, so Ctrl-C never leaves one behind.
 */
public final class RelayProcess implements AutoCloseable {
  /** The JVM options of {@code ./nocopy relay} (the launcher's JVM_FLAGS and relay heap flags). */
  public static final List<String> JVM_OPTIONS =
      List.of("--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "-XX:+UseSerialGC", "-Xms64m", "-Xmx256m",
          "-Djava.util.logging.SimpleFormatter.format=%1$tF %1$tT %4$s %5$s%6$s%n");

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
      for (Process p : LIVE) {
        p.destroyForcibly();
      }
    }));
  }

  private static volatile long clockTicks;

  private final Process process;
  private final InetSocketAddress address;
  private final String password;
  private final String adminAuthorization;
  private final Path log;

  private RelayProcess(Process process, InetSocketAddress address, String password, Path log) {
    this.process = process;
    this.address = address;
    this.password = password;
    this.adminAuthorization = basic("admin", "admin" + password);
    this.log = log;
  }

  /**
   * Starts a relay and waits until it answers {@code /admin/nocopy-stats.json}.
   *
   * @param engine {@code splice}, {@code userspace} ({@code --io-uring off}), {@code
   *     userspace-uring} ({@code --engine userspace --io-uring on}) or {@code auto} (the relay's
   *     defaults)
   * @param maxListeners the relay's total and per-IP listener limits, and its per-IP cap on
   *     connections still sending their head when above the relay's default of 64 (all demo
   *     listeners share one address)
   * @param extraArgs more relay flags, may be empty
   * @return the running relay; the caller closes it
   * @throws IOException if it cannot start within 30 s; the message holds the end of its log
   */
  public static RelayProcess start(String engine, int maxListeners, String... extraArgs) throws IOException {
    byte[] pw = new byte[9];
    new SecureRandom().nextBytes(pw);
    String password = HexFormat.of().formatHex(pw);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      List<String> cmd = new ArrayList<>();
      cmd.add(java);
      cmd.addAll(JVM_OPTIONS);
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add("io.nocopy.relay.RelayMain");
      cmd.addAll(List.of("--listen", "127.0.0.1:" + port, "--source-password", password,
          "--admin-password", "admin" + password,
          "--engine", engine.equals("userspace-uring") ? "userspace" : engine,
          "--io-uring", engine.equals("userspace-uring") ? "on" : engine.equals("userspace") ? "off" : "auto",
          "--status-interval", "0",
          "--max-listeners", Integer.toString(maxListeners),
          "--max-listeners-per-ip", Integer.toString(maxListeners),
          // every listener connects from this one address at once: under load more than the
          // default 64 may still be sending their heads, and the cap would close the rest; below
          // 64 the default stays, so that listeners over a small limit get its 503, not a close
          "--max-pending-per-ip", Integer.toString(Math.max(64, maxListeners))));
      cmd.addAll(List.of(extraArgs));
      Path log = Files.createTempFile("nocopy-demo-relay-", ".log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      LIVE.add(p);
      RelayProcess relay = new RelayProcess(p, new InetSocketAddress("127.0.0.1", port), password, log);
      try {
        relay.awaitReady(30_000);
        return relay;
      } catch (IOException e) {
        last = e;
        String tail = relay.logTail(20);
        relay.close();
        if (!tail.contains("cannot listen")) {
          throw e; // not the port race: do not retry
        }
      }
    }
    throw last;
  }

  /**
   * A Basic {@code Authorization} header value.
   *
   * @param user the user
   * @param password the password
   * @return {@code Basic <base64 of user:password>}
   */
  static String basic(String user, String password) {
    return "Basic " + java.util.Base64.getEncoder()
        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  private void awaitReady(long timeoutMillis) throws IOException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    while (true) {
      if (!process.isAlive()) {
        throw new IOException("the relay exited with status " + process.exitValue() + ":\n" + logTail(20));
      }
      try {
        get("/admin/nocopy-stats.json");
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException("the relay did not answer within " + timeoutMillis + " ms:\n" + logTail(20), e);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the relay", e);
      }
    }
  }

  /** @return where the relay listens */
  public InetSocketAddress address() {
    return address;
  }

  /** @return the password sources must send as {@code source:<password>} */
  public String password() {
    return password;
  }

  /** @return the child's process id */
  public long pid() {
    return process.pid();
  }

  /** @return whether the child is still running */
  public boolean alive() {
    return process.isAlive();
  }

  /**
   * One GET over a fresh connection.
   *
   * @param path e.g. {@code /status-json.xsl}
   * @return the response body
   * @throws IOException on a connection error, a 5 s timeout or a status other than 200
   */
  public String get(String path) throws IOException {
    return get(address, path, adminAuthorization);
  }

  /**
   * One GET over a fresh connection to any relay (also used by {@link PeerLoad}).
   *
   * @param address the relay
   * @param path e.g. {@code /status-json.xsl}
   * @param authorization an {@code Authorization} header value (for {@code /admin/} pages), or null
   * @return the response body
   * @throws IOException on a connection error, a 5 s timeout or a status other than 200
   */
  static String get(InetSocketAddress address, String path, String authorization) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(address, 5_000);
      s.setSoTimeout(5_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n"
          + (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String all = new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
      int split = all.indexOf("\r\n\r\n");
      if (!all.startsWith("HTTP/1.") || split < 0 || !all.substring(9).startsWith("200")) {
        throw new IOException("GET " + path + ": unexpected answer '" + all.lines().findFirst().orElse("") + "'");
      }
      return all.substring(split + 4);
    }
  }

  /**
   * The relay's own reading of its costs and totals ({@code /admin/nocopy-stats.json}).
   *
   * @param cpuNanos process CPU time
   * @param allocatedBytes heap bytes allocated since start
   * @param gcCount collections since start
   * @param rssBytes resident memory now
   * @param bytesOut bytes written to listeners (live mounts)
   * @param listeners listeners connected
   * @param engine the engine the relay reports it is using, {@code userspace-uring} for the
   *     userspace engine with io_uring sends
   */
  public record Stats(long cpuNanos, long allocatedBytes, long gcCount, long rssBytes, long bytesOut,
      long listeners, String engine) {}

  /**
   * Reads {@code /admin/nocopy-stats.json}.
   *
   * @return the reading
   * @throws IOException if the relay does not answer or the document lacks a field
   */
  public Stats stats() throws IOException {
    String j = get("/admin/nocopy-stats.json");
    return new Stats(Json.number(j, "cpu_ns"), Json.number(j, "allocated_bytes"),
        Json.number(j, "gc_count"), Json.number(j, "rss_bytes"), Json.number(j, "bytes_out"),
        Json.number(j, "listeners"), engine(Json.string(j, "engine"), j.contains("\"io_uring\":true")));
  }

  /** The userspace engine with io_uring sends is named as the demo names it. */
  private static String engine(String reported, boolean ioUring) {
    return reported.equals("userspace") && ioUring ? "userspace-uring" : reported;
  }

  /**
   * The engines the mounts report in {@code /status-json.xsl} ({@code nocopy_engine}).
   *
   * @return the distinct values, in order of appearance
   * @throws IOException if the relay does not answer
   */
  public List<String> mountEngines() throws IOException {
    List<String> out = new ArrayList<>();
    for (String e : Json.strings(get("/status-json.xsl"), "nocopy_engine")) {
      if (!out.contains(e)) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * The child's CPU time from {@code /proc/<pid>/stat} (user + system), without asking the relay,
   * so that sampling it costs the relay nothing.
   *
   * @return nanoseconds, or -1 where /proc cannot be read
   */
  public long procCpuNanos() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15: utime, stime
      return ticks * (1_000_000_000L / clockTicks());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long clockTicks() {
    long t = clockTicks;
    if (t == 0) {
      t = 100;
      try {
        Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
          t = Long.parseLong(out);
        }
      } catch (IOException | RuntimeException e) {
        t = 100;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      clockTicks = t;
    }
    return t;
  }

  /**
   * The child's peak resident memory ({@code VmHWM} in {@code /proc/<pid>/status}).
   *
   * @return bytes, or -1 where /proc cannot be read
   */
  public long peakRssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /**
   * The last lines the relay printed.
   *
   * @param lines how many
   * @return them, joined with newlines
   */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no relay log: " + e.getMessage() + ")";
    }
  }

  /** Stops the relay (SIGTERM, then SIGKILL after 10 s) and deletes its log. Idempotent. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    LIVE.remove(process);
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // a temp file left behind is harmless
    }
  }
}
