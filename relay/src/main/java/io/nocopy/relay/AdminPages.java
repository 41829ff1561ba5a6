package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import io.nocopy.relay.config.MountSettings;
import io.nocopy.relay.config.Station;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pages that are not streams: Icecast's {@code /status-json.xsl} ({@link StatusJson}), its
 * metadata update {@code /admin/metadata}, the Prometheus page {@code /metrics} ({@link
 * Metrics}, open like the status page), its admin API in its XML shapes ({@code stats}, {@code
 * listmounts}, {@code listclients}, {@code killclient}, {@code killsource}: {@link AdminXml}), the process's costs at {@code
 * /admin/nocopy-stats.json} (read by the demo and the benchmark harness), and a plain-text index
 * at {@code /}. Each answer is complete and ends the connection. Every {@code /admin/} path needs
 * credentials first, as in Icecast (see {@link Logins#allows}).
 */
final class AdminPages {
  private static final System.Logger LOG = System.getLogger(AdminPages.class.getName());
  /** Icecast's error text for a mount command on a mount without a source. */
  private static final String NO_SOURCE = "Source does not exist";
  /** Icecast's error text for a mount command without {@code mount=}. */
  private static final String UNKNOWN_REQUEST = "Unknown admin request";
  private final RelayServer server;

  AdminPages(RelayServer server) {
    this.server = server;
  }

  /**
   * Answers a {@code GET} if its path is one of these pages.
   *
   * @param ch the connection
   * @param head the request
   * @return false if the path is not an admin page (it may be a mount)
   * @throws IOException if the client went away
   */
  boolean serve(SocketChannel ch, HttpHead.Request head) throws IOException {
    if (!server.logins().allows(head)) {
      server.send(ch, BasicAuth.adminChallenge());
      return true;
    }
    switch (head.path()) {
      case "/status-json.xsl" -> {
        String json = StatusJson.render(server.config().station(), server.statusHost(),
            server.statusHost() + ":" + server.address().getPort(), server.started(), server.listedMounts());
        // as Icecast 2.4: no Access-Control-Allow-Origin unless <http-headers> adds it
        server.send(ch, Responses.simple(200, "application/json; charset=UTF-8", json));
      }
      case "/admin/metadata" -> updateMetadata(ch, head);
      case "/admin/stats", "/admin/stats.xml" -> stats(ch, head.query().get("mount"));
      case "/admin/listmounts" ->
          server.send(ch, AdminXml.xmlPage(AdminXml.listMounts(views(null), Instant.now())));
      case "/admin/listclients" -> listClients(ch, head.query().get("mount"));
      case "/admin/killclient" -> killClient(ch, head.query().get("mount"), head.query().get("id"));
      case "/admin/killsource" -> killSource(ch, head.query().get("mount"));
      case "/metrics" ->
          server.send(ch, Responses.simple(200, Metrics.CONTENT_TYPE, Metrics.render(server)));
      case "/admin/moveclients" -> moveClients(ch, head);
      case "/admin/streamlist.txt" ->
          server.send(ch, StreamList.response(StreamList.body(server.mounts(),
              server.relays().onDemandMounts(), server.config().mounts())));
      case "/admin/nocopy-stats.json" ->
          server.send(ch, Responses.simple(200, "application/json; charset=utf-8", statsJson()));
      case "/" -> server.send(ch, Responses.simple(200, "text/plain; charset=utf-8", indexPage()));
      default -> {
        if (!head.path().startsWith("/admin/")) {
          return false;
        }
        // an authenticated admin request for a command this relay does not have: Icecast's answer
        server.send(ch, AdminXml.errorPage(400, "Unrecognised command"));
      }
    }
    return true;
  }

  /**
   * {@code /admin/stats}: every mount, or only {@code mount} when given (400 {@code Source does not
   * exist} when it is not live), hidden mounts included, as in Icecast.
   */
  private void stats(SocketChannel ch, String mount) throws IOException {
    List<AdminXml.MountView> views = views(mount);
    if (mount != null && views.isEmpty()) {
      server.send(ch, AdminXml.errorPage(400, NO_SOURCE));
      return;
    }
    RelayServer.Totals t = server.totals();
    RelayServer.Counts c = server.counts();
    Station station = server.config().station();
    AdminXml.Server s = new AdminXml.Server(station.admin(), server.hostName(), station.location(),
        server.started(), c.connections(), server.openConnections(), c.listeners(), t.listeners(),
        c.sources(), c.relays(), t.mounts());
    server.send(ch, AdminXml.xmlPage(AdminXml.stats(s, hostPort(), views)));
  }

  /** {@code /admin/listclients?mount=}: the mount's listeners with their ids. */
  private void listClients(SocketChannel ch, String mount) throws IOException {
    if (mount == null) {
      server.send(ch, AdminXml.errorPage(400, UNKNOWN_REQUEST));
    } else if (server.mount(mount) == null) {
      server.send(ch, AdminXml.errorPage(400, NO_SOURCE));
    } else {
      server.send(ch, AdminXml.xmlPage(AdminXml.listClients(mount, server.listenerRegistry().on(mount))));
    }
  }

  /**
   * {@code /admin/killclient?mount=&id=}: disconnects that listener of that mount. An id that is
   * not a number is read as 0, as Icecast's {@code atoi} does, and not found.
   */
  private void killClient(SocketChannel ch, String mount, String id) throws IOException {
    if (mount == null) {
      server.send(ch, AdminXml.errorPage(400, UNKNOWN_REQUEST));
      return;
    }
    if (server.mount(mount) == null) {
      server.send(ch, AdminXml.errorPage(400, NO_SOURCE));
      return;
    }
    if (id == null) {
      server.send(ch, AdminXml.errorPage(400, "Missing parameter"));
      return;
    }
    long n = atoi(id);
    ListenerRegistry.Entry e = server.listenerRegistry().get(n);
    if (e == null || !e.mount.name.equals(mount)) {
      server.send(ch, AdminXml.xmlPage(AdminXml.response("Client " + n + " not found", false)));
      return;
    }
    e.mount.countDrop(Mount.Drop.ADMIN_KILL);
    e.sink.drop();
    LOG.log(System.Logger.Level.INFO, "{0}: listener {1} removed by an admin request", mount, n);
    server.send(ch, AdminXml.xmlPage(AdminXml.response("Client " + n + " removed", true)));
  }

  /** {@code /admin/killsource?mount=}: ends the mount's source; its listeners get the stream's end. */
  private void killSource(SocketChannel ch, String mount) throws IOException {
    if (mount == null) {
      server.send(ch, AdminXml.errorPage(400, UNKNOWN_REQUEST));
    } else if (!server.killSource(mount)) {
      server.send(ch, AdminXml.errorPage(400, NO_SOURCE));
    } else {
      server.send(ch, AdminXml.xmlPage(AdminXml.response("Source Removed", true)));
    }
  }

  /** C's {@code atoi}: the leading decimal digits (after an optional sign), 0 when there are none. */
  static long atoi(String s) {
    int i = 0;
    String t = s.strip();
    boolean negative = false;
    if (i < t.length() && (t.charAt(i) == '-' || t.charAt(i) == '+')) {
      negative = t.charAt(i++) == '-';
    }
    long n = 0;
    while (i < t.length() && t.charAt(i) >= '0' && t.charAt(i) <= '9' && n < Long.MAX_VALUE / 10 - 10) {
      n = n * 10 + (t.charAt(i++) - '0');
    }
    return negative ? -n : n;
  }

  private String hostPort() {
    return server.hostName() + ":" + server.address().getPort();
  }

  /**
   * The live mounts as the admin pages show them, in name order: all of them, or only {@code
   * only} (an empty list when it is not live).
   */
  private List<AdminXml.MountView> views(String only) {
    List<AdminXml.MountView> out = new ArrayList<>();
    RelayConfig config = server.config();
    for (MountSnapshot s : server.mounts()) {
      Mount m = server.mount(s.mount());
      if (m == null || (only != null && !only.equals(s.mount()))) {
        continue;
      }
      int slow = 0;
      for (MountFanout.Attached a : m.listenerSinks()) {
        slow += a.backlog() > config.queueSize() / 2 ? 1 : 0;
      }
      MountSettings settings = config.mounts().settings(s.mount());
      out.add(new AdminXml.MountView(s, settings.maxListeners(), settings.fallbackMount(), slow,
          m.sourceIp, m.sourceAgent));
    }
    return out;
  }

  /**
   * Icecast's metadata update, as libshout, ezstream and butt send it: {@code GET
   * /admin/metadata?mode=updinfo&mount=/m&song=Title} (or {@code title=} and {@code artist=},
   * shown as {@code "artist - title"}; {@code url=}; {@code charset=} for the query's encoding,
   * ISO-8859-1 by default as Icecast assumes for non-Ogg sources), with the source's or the admin
   * credentials (checked in {@link #serve}).
   * The title shows in the status page and goes into listeners' ICY metadata (ISO-8859-1, as
   * Icecast writes it) from the stream's current position on.
   */
  private void updateMetadata(SocketChannel ch, HttpHead.Request head) throws IOException {
    Map<String, String> q = head.query();
    Mount mount = q.get("mount") == null ? null : server.mount(q.get("mount"));
    if (!"updinfo".equals(q.get("mode")) || mount == null) {
      server.refuse(ch, mount == null ? 404 : 400, mount == null ? "no such mount" : "mode must be updinfo");
      return;
    }
    Charset charset;
    try {
      String mountCharset = server.mountSettings(mount.name).charset(); // <charset>, else Icecast's default
      charset = Charset.forName(q.getOrDefault("charset", mountCharset != null ? mountCharset : "ISO-8859-1"));
    } catch (IllegalArgumentException e) {
      server.refuse(ch, 400, "unknown charset");
      return;
    }
    Map<String, String> v = rawQuery(head.target(), charset);
    String song = v.get("song");
    if (song == null) {
      String artist = v.get("artist");
      String title = v.get("title");
      song = artist != null && title != null ? artist + " - " + title : title != null ? title : artist;
    }
    if (song == null) {
      server.refuse(ch, 400, "no song, title or artist");
      return;
    }
    song = song.length() > 512 ? song.substring(0, 512) : song;
    // the blocks carry ISO-8859-1, as Icecast writes them for a mount without a charset setting
    mount.setTitle(mount.bytesIn(), song, v.get("url"), StandardCharsets.ISO_8859_1);
    server.send(ch, AdminXml.xmlPage(AdminXml.response("Metadata update successful", true)));
  }

  /**
   * Icecast's {@code /admin/moveclients?mount=/from&destination=/to}: every listener of {@code
   * /from} goes on with {@code /to}'s stream without being disconnected, each from the next
   * boundary of the stream's format ({@link Fallbacks#move}). Without {@code destination} it lists
   * the other live mounts (Icecast's form for its XSL page). Icecast's answers, byte for byte up to
   * the headers: 400 for a missing {@code mount}, an unknown source or destination, the same mount
   * twice; mounts of different formats get the success answer but nobody moves (a warning is
   * logged), as in Icecast.
   */
  private void moveClients(SocketChannel ch, HttpHead.Request head) throws IOException {
    Map<String, String> q = head.query();
    String from = q.get("mount");
    if (from == null) {
      server.send(ch, AdminXml.errorPage(400, UNKNOWN_REQUEST));
      return;
    }
    Mount source = server.mount(from);
    if (source == null) {
      server.send(ch, AdminXml.errorPage(400, NO_SOURCE));
      return;
    }
    String to = q.get("destination");
    if (to == null) {
      List<AdminXml.MountView> others = new java.util.ArrayList<>(views(null));
      others.removeIf(v -> v.snapshot().mount().equals(from));
      server.send(ch, AdminXml.xmlPage(AdminXml.moveTargets(from, others, Instant.now())));
      return;
    }
    if (from.equals(to)) {
      server.send(ch, AdminXml.errorPage(400, "supplied mountpoints are identical"));
      return;
    }
    Mount destination = server.mount(to);
    if (destination == null) {
      server.send(ch, AdminXml.errorPage(400, "No such destination"));
      return;
    }
    server.fallbacks().move(source, destination);
    server.send(ch, AdminXml.xmlPage(AdminXml.response("Clients moved from " + from + " to " + to, true)));
  }

  /** The query's values percent-decoded as {@code charset} (the first of each name wins). */
  static Map<String, String> rawQuery(String target, Charset charset) {
    Map<String, String> out = new java.util.HashMap<>();
    int qm = target.indexOf('?');
    if (qm < 0) {
      return out;
    }
    for (String pair : target.substring(qm + 1).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        try {
          out.putIfAbsent(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), charset));
        } catch (IllegalArgumentException malformed) {
          out.putIfAbsent(pair.substring(0, eq), pair.substring(eq + 1));
        }
      }
    }
    return out;
  }

  /** The process's costs and the relay's totals, for the demo and benchmark harness. */
  private String statsJson() {
    ProcessStats.Reading r = ProcessStats.read();
    RelayServer.Totals t = server.totals();
    return "{\"cpu_ns\":" + r.cpuNanos() + ",\"allocated_bytes\":" + r.allocatedBytes()
        + ",\"gc_count\":" + r.gcCount() + ",\"gc_ms\":" + r.gcMillis() + ",\"rss_bytes\":"
        + r.rssBytes() + ",\"pool_blocks_in_use\":" + server.allocator().inUse() + ",\"pool_reserved_bytes\":"
        + server.allocator().reservedBytes() + ",\"mounts\":" + t.mounts() + ",\"listeners\":" + t.listeners()
        + ",\"bytes_in\":" + t.bytesIn() + ",\"bytes_out\":" + t.bytesOut() + ",\"engine\":\"" + server.transports().engineName() + "\""
        + ",\"io_uring\":" + server.transports().ioUring()
        + ",\"listeners_by_transport\":" + server.listenersByTransport() + "}";
  }

  private String indexPage() {
    StringBuilder b = new StringBuilder("nocopy relay\n\n");
    List<MountSnapshot> ms = server.mounts();
    if (ms.isEmpty()) {
      b.append("no mounts yet: publish with PUT or SOURCE (see ./nocopy relay --help)\n");
    }
    for (MountSnapshot m : ms) {
      b.append(m.mount()).append("  ").append(m.contentType()).append("  listeners ")
          .append(m.listeners()).append('\n');
    }
    return b.toString();
  }
}
