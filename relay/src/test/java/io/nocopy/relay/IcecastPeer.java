package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Icecast 2.4 for integration tests, run as its package's user (it refuses root) from an
 * icecast.xml written by the test: the {@code <listen-socket>}, {@code <paths>}, {@code <logging>}
 * and {@code <security>} parts are filled in here, the rest comes from the test. Skips the test
 * unless {@code icecast2} and {@code setpriv} are there and the test runs as root. Closing it stops
 * the process.
 */
final class IcecastPeer implements AutoCloseable {
  private final Process process;
  final InetSocketAddress address;
  final Path dir;

  /**
   * Starts Icecast and waits until its status page answers.
   *
   * @param dir a directory of its own (it gets the config and the logs; ownership is changed, and
   *     its parent becomes searchable by others)
   * @param body the icecast.xml elements besides the ones filled in here
   */
  IcecastPeer(Path dir, String body) throws Exception {
    Tools.require("icecast2", "setpriv");
    Assumptions.assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0,
        "not root: Icecast is started as its package's user with setpriv, which needs root; skipping");
    this.dir = Files.createDirectories(dir);
    // Icecast's user must get through the (test's private) parent directory to its own
    java.util.Set<java.nio.file.attribute.PosixFilePermission> parent =
        new java.util.HashSet<>(Files.getPosixFilePermissions(dir.getParent()));
    parent.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
    Files.setPosixFilePermissions(dir.getParent(), parent);
    int port = RelaysTest.unusedPort();
    Files.writeString(dir.resolve("icecast.xml"), "<icecast><location>nocopy</location>"
        + "<admin>root@localhost</admin><hostname>127.0.0.1</hostname>" + body
        + "<listen-socket><port>" + port + "</port><bind-address>127.0.0.1</bind-address></listen-socket>"
        + "<paths><basedir>/usr/share/icecast2</basedir><logdir>" + dir + "</logdir>"
        + "<webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>"
        + "<logging><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>"
        + "<security><chroot>0</chroot></security></icecast>");
    assertEquals(0, new ProcessBuilder("chown", "-R", "icecast2:icecast", dir.toString()).start().waitFor());
    this.process = new ProcessBuilder("setpriv", "--reuid=icecast2", "--regid=icecast", "--init-groups",
        "icecast2", "-c", dir.resolve("icecast.xml").toString())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    this.address = new InetSocketAddress("127.0.0.1", port);
    RelayEndToEndTest.await(() -> {
      try {
        return StatusEndToEndTest.icestats(address).containsKey("admin");
      } catch (IOException | RuntimeException e) { // not listening yet, or an empty answer
        return false;
      }
    }, "Icecast to listen and publish its statistics");
  }

  /** Its error log so far, for failure messages. */
  String log() {
    try {
      return Files.readString(dir.resolve("error.log"));
    } catch (IOException e) {
      return "(no error log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
