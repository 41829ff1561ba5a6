package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;

/**
 * The pages that are not streams: Icecast's {@code /status-json.xsl} ({@link StatusJson}), its
 * metadata update {@code /admin/metadata}, the process's costs at {@code
 * /admin/nocopy-stats.json} (read by the demo and the benchmark harness), and a plain-text index
 * at {@code /}. Each answer is complete and ends the connection. Every {@code /admin/} path needs
 * credentials first, as in Icecast (see {@link RelayServer#adminAllowed}).
 */
final class AdminPages {
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
    if (!server.adminAllowed(head)) {
      Responses.send(ch, BasicAuth.adminChallenge());
      return true;
    }
    switch (head.path()) {
      case "/status-json.xsl" -> {
        String json = StatusJson.render(server.hostName(), server.hostName() + ":" + server.address().getPort(),
            server.started(), server.mounts());
        Responses.send(ch, Responses.simple(200, "application/json; charset=utf-8", json,
            "Access-Control-Allow-Origin: *"));
      }
      case "/admin/metadata" -> updateMetadata(ch, head);
      case "/admin/streamlist.txt" ->
          Responses.send(ch, StreamList.response(StreamList.body(server.mounts(), server.config().mounts())));
      case "/admin/nocopy-stats.json" ->
          Responses.send(ch, Responses.simple(200, "application/json; charset=utf-8", statsJson()));
      case "/" -> Responses.send(ch, Responses.simple(200, "text/plain; charset=utf-8", indexPage()));
      default -> {
        if (!head.path().startsWith("/admin/")) {
          return false;
        }
        // an authenticated admin request for a command this relay does not have: Icecast's answer
        Responses.send(ch, Responses.simple(400, "text/html; charset=utf-8",
            "<html><head><title>Error 400</title></head><body><b>400 - Unrecognised command</b></body></html>"));
      }
    }
    return true;
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
      charset = q.containsKey("charset") ? Charset.forName(q.get("charset")) : StandardCharsets.ISO_8859_1;
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
    Responses.send(ch, Responses.simple(200, "text/xml", "<?xml version=\"1.0\"?>\n<iceresponse><message>Metadata"
        + " update successful</message><return>1</return></iceresponse>\n"));
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
        + ",\"bytes_in\":" + t.bytesIn() + ",\"bytes_out\":" + t.bytesOut() + ",\"engine\":\"" + server.engineName() + "\""
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
