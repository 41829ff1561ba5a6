package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.relay.config.IcecastConfig.Master;
import io.nocopy.relay.http.HttpHead;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A slave's poll of its master, as an Icecast 2.4 slave does it: every {@code
 * master-update-interval} (and once at start) a {@code GET /admin/streamlist.txt} with the master
 * login ({@code master-username}:{@code master-password}, Basic auth), whose body names one mount
 * per line; every mount listed is relayed under the same name ({@link Relays#master}). When the
 * master cannot be reached or refuses, the relays already running keep running and the next poll
 * tries again. The master is read from {@link Relays#currentMaster} at each poll, so a reload
 * changes it; the poll ends when there is none.
 *
 * <p>Bounded: connecting and each read give up after 10 seconds; at most {@link #MAX_MOUNTS} lines
 * of at most {@link #MAX_LINE} bytes are read. Runs on a thread of its own until the server closes.
 */
final class MasterPoll {
  private static final System.Logger LOG = System.getLogger(MasterPoll.class.getName());
  static final int MAX_MOUNTS = 1000;
  static final int MAX_LINE = 1024;
  private static final int TIMEOUT_MS = 10_000;

  private final RelayServer server;
  private final Relays relays;

  MasterPoll(RelayServer server, Relays relays) {
    this.server = server;
    this.relays = relays;
  }

  /** Polls the current master until the server closes or there is no master any more. */
  void run() {
    Master failing = null; // the master whose failure was logged, until it answers again
    while (!server.closed()) {
      Master master = relays.currentMaster();
      if (master == null) {
        if (relays.pollEnds()) {
          return;
        }
        continue;
      }
      String where = master.server() + ":" + master.port();
      try {
        List<String> mounts = streamList(master);
        if (master.equals(failing)) {
          LOG.log(System.Logger.Level.INFO, "master {0} answers again", where);
        }
        failing = null;
        relays.master(master, mounts);
      } catch (IOException | RuntimeException e) {
        if (!server.closed() && !master.equals(failing)) {
          LOG.log(System.Logger.Level.WARNING, "master {0}: cannot fetch its stream list: {1};"
              + " trying again every {2} s", where, e.getMessage(), master.updateInterval().toSeconds());
        }
        failing = master;
      }
      long until = System.nanoTime() + master.updateInterval().toNanos();
      while (!server.closed() && System.nanoTime() < until && master.equals(relays.currentMaster())) {
        RelayServer.sleepQuietly(Math.min(250, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
      }
    }
  }

  /** One fetch of the master's stream list: its valid mount names, in its order. */
  List<String> streamList(Master master) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(master.server(), master.port()), TIMEOUT_MS);
      s.setSoTimeout(TIMEOUT_MS);
      s.getOutputStream().write(request(master));
      try (BufReader in = BufReader.of(Channels.newChannel(s.getInputStream()), server.allocator())) {
        HttpHead.Response answer = HttpHead.readResponse(in::readLine);
        if (answer.status() != 200) {
          throw new IOException("it answered '" + answer.statusLine() + "'");
        }
        return mounts(master, in);
      }
    }
  }

  /** The request an Icecast 2.4 slave sends. */
  static byte[] request(Master master) {
    String login = master.username() + ":" + (master.password() == null ? "" : master.password());
    return ("GET /admin/streamlist.txt HTTP/1.0\r\nAuthorization: Basic "
        + Base64.getEncoder().encodeToString(login.getBytes(StandardCharsets.UTF_8)) + "\r\n\r\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> mounts(Master master, BufReader in) throws IOException {
    List<String> out = new ArrayList<>();
    while (out.size() < MAX_MOUNTS) {
      String line;
      try {
        line = in.readLine(MAX_LINE);
      } catch (EOFException unterminated) {
        break; // a last line without its CRLF
      }
      if (line == null) {
        break;
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        out.add(MountName.validate(line));
      } catch (IllegalArgumentException e) {
        LOG.log(System.Logger.Level.WARNING, "master {0}:{1} lists {2}, not a mount name: {3}",
            master.server(), master.port(), line, e.getMessage());
      }
    }
    return out;
  }
}
