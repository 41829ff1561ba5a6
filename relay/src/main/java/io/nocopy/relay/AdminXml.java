package io.nocopy.relay;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The admin API's answers in Icecast 2.4's shapes, byte for byte but the {@code Server} and {@code
 * Date} values, so that scripts and monitoring plugins written for Icecast read them: the XML of
 * {@code /admin/stats}, {@code /admin/listmounts} and {@code /admin/listclients}, the {@code
 * <iceresponse>} of the commands, and the HTML error page. Element names, their order (Icecast
 * keeps its statistics sorted by name) and its mixed case ({@code Listeners}, {@code Connected},
 * {@code ID}) are Icecast's. Stateless; every method builds a complete answer.
 */
final class AdminXml {
  private static final String XML_DECL = "<?xml version=\"1.0\"?>\n";

  private AdminXml() {}

  /**
   * What the whole server counts for {@code /admin/stats}.
   *
   * @param admin the admin's contact
   * @param host the host name
   * @param location where the server is
   * @param started when the server started
   * @param connections connections accepted since the start
   * @param clients connections open now
   * @param listenerConnections listeners served since the start
   * @param listeners listeners connected now
   * @param sourceConnections sources (encoders) accepted since the start
   * @param relayConnections relayed mounts started since the start
   * @param sources live mounts now
   */
  record Server(String admin, String host, String location, Instant started, long connections,
      long clients, long listenerConnections, long listeners, long sourceConnections,
      long relayConnections, long sources) {}

  /**
   * One mount as the admin pages show it.
   *
   * @param snapshot the mount's counters and metadata
   * @param maxListeners its listener limit, or null for unlimited
   * @param fallback its fallback mount, or null
   * @param slowListeners listeners far behind the live stream now
   * @param sourceIp the source's address, or null
   * @param userAgent the source's {@code User-Agent}, or null
   */
  record MountView(MountSnapshot snapshot, Integer maxListeners, String fallback, int slowListeners,
      String sourceIp, String userAgent) {}

  /**
   * {@code /admin/stats}: the server's counters, then one {@code <source>} per mount.
   *
   * @param s the server's counters
   * @param hostPort host and port, for the listen URLs
   * @param mounts the mounts to show, in name order
   * @return the document
   */
  static String stats(Server s, String hostPort, List<MountView> mounts) {
    TreeMap<String, String> g = new TreeMap<>();
    g.put("admin", s.admin());
    g.put("client_connections", Long.toString(s.connections()));
    g.put("clients", Long.toString(s.clients()));
    g.put("connections", Long.toString(s.connections()));
    g.put("file_connections", "0");
    g.put("host", s.host());
    g.put("listener_connections", Long.toString(s.listenerConnections()));
    g.put("listeners", Long.toString(s.listeners()));
    g.put("location", s.location());
    g.put("server_id", StatusJson.SERVER_ID);
    g.put("server_start", StatusJson.rfc1123(s.started()));
    g.put("server_start_iso8601", StatusJson.iso8601(s.started()));
    g.put("source_client_connections", Long.toString(s.sourceConnections()));
    g.put("source_relay_connections", Long.toString(s.relayConnections()));
    g.put("source_total_connections", Long.toString(s.sourceConnections() + s.relayConnections()));
    g.put("sources", Long.toString(s.sources()));
    g.put("stats", "0");
    g.put("stats_connections", "0");
    StringBuilder b = new StringBuilder(1024 + 1024 * mounts.size()).append(XML_DECL).append("<icestats>");
    elements(b, g);
    for (MountView m : mounts) {
      TreeMap<String, Object> f = StatusJson.fields(hostPort, m.snapshot());
      f.put("max_listeners", m.maxListeners() == null ? "unlimited" : m.maxListeners().toString());
      SourceInfo info = m.snapshot().info();
      f.put("public", info.isPublic() == null ? "0" : info.isPublic());
      f.put("slow_listeners", Integer.toString(m.slowListeners()));
      if (m.sourceIp() != null) {
        f.put("source_ip", m.sourceIp());
      }
      if (m.userAgent() != null) {
        f.put("user_agent", m.userAgent());
      }
      b.append("<source mount=\"");
      attr(b, m.snapshot().mount());
      b.append("\">");
      elements(b, f);
      b.append("</source>");
    }
    return b.append("</icestats>\n").toString();
  }

  /**
   * {@code /admin/listmounts}: each mount's fallback, listeners, seconds since its source connected
   * and content type.
   *
   * @param mounts the mounts, in name order
   * @param now the time to count {@code Connected} to
   * @return the document
   */
  static String listMounts(List<MountView> mounts, Instant now) {
    if (mounts.isEmpty()) {
      return XML_DECL + "<icestats/>\n";
    }
    StringBuilder b = new StringBuilder(64 + 192 * mounts.size()).append(XML_DECL).append("<icestats>");
    return sources(b, mounts, now).append("</icestats>\n").toString();
  }

  /**
   * {@code /admin/moveclients?mount=} without a destination: the mount, then the mounts its
   * listeners could be moved to, as {@link #listMounts} gives them (Icecast's data for its form).
   *
   * @param current the mount whose listeners would move
   * @param others the other live mounts, in name order
   * @param now the time to count {@code Connected} to
   * @return the document
   */
  static String moveTargets(String current, List<MountView> others, Instant now) {
    StringBuilder b = new StringBuilder(128 + 192 * others.size()).append(XML_DECL)
        .append("<icestats><current_source>");
    text(b, current);
    b.append("</current_source>");
    return sources(b, others, now).append("</icestats>\n").toString();
  }

  /** Appends one {@code <source>} element per mount, as {@code listmounts} has them. */
  private static StringBuilder sources(StringBuilder b, List<MountView> mounts, Instant now) {
    for (MountView m : mounts) {
      MountSnapshot s = m.snapshot();
      b.append("<source mount=\"");
      attr(b, s.mount());
      b.append("\"><fallback>");
      text(b, m.fallback() == null ? "" : m.fallback());
      b.append("</fallback><listeners>").append(s.listeners()).append("</listeners><Connected>")
          .append(Math.max(0, now.getEpochSecond() - s.streamStart().getEpochSecond()))
          .append("</Connected><content-type>");
      text(b, s.contentType());
      b.append("</content-type></source>");
    }
    return b;
  }

  /**
   * {@code /admin/listclients?mount=}: the mount's listeners, oldest first, with the ids {@code
   * killclient} takes. A listener that sent no {@code User-Agent} shows {@code Unknown}, as in
   * Icecast.
   *
   * @param mount the mount's name
   * @param listeners its listeners
   * @return the document
   */
  static String listClients(String mount, List<ListenerRegistry.Entry> listeners) {
    StringBuilder b = new StringBuilder(128 + 160 * listeners.size()).append(XML_DECL)
        .append("<icestats><source mount=\"");
    attr(b, mount);
    b.append("\"><Listeners>").append(listeners.size()).append("</Listeners>");
    for (ListenerRegistry.Entry e : listeners) {
      b.append("<listener><IP>");
      text(b, e.ip);
      b.append("</IP><UserAgent>");
      text(b, e.userAgent == null ? "Unknown" : e.userAgent);
      b.append("</UserAgent><Connected>").append(e.connectedSeconds()).append("</Connected><ID>")
          .append(e.id).append("</ID></listener>");
    }
    return b.append("</source></icestats>\n").toString();
  }

  /**
   * A command's answer: {@code <iceresponse>} with the message and {@code 1} for success, {@code
   * 0} for failure (Icecast answers both with status 200).
   *
   * @param message what happened
   * @param ok whether the command did it
   * @return the document
   */
  static String response(String message, boolean ok) {
    StringBuilder b = new StringBuilder(XML_DECL).append("<iceresponse><message>");
    text(b, message);
    return b.append("</message><return>").append(ok ? 1 : 0).append("</return></iceresponse>\n").toString();
  }

  /**
   * A complete XML answer with Icecast's head (status 200).
   *
   * @param xml the document
   * @return the answer's bytes
   */
  static byte[] xmlPage(String xml) {
    return Responses.page(200, "text/xml; charset=utf-8", xml, true);
  }

  /**
   * Icecast's error page: HTML, no {@code Content-Length} (the body ends with the connection).
   *
   * @param status the HTTP status
   * @param message the text after {@code "<status> - "}
   * @return the answer's bytes
   */
  static byte[] errorPage(int status, String message) {
    StringBuilder b = new StringBuilder("<html><head><title>Error ").append(status)
        .append("</title></head><body><b>").append(status).append(" - ");
    text(b, message);
    b.append("</b></body></html>\r\n");
    return Responses.page(status, "text/html; charset=utf-8", b.toString(), false);
  }

  /** Elements {@code <name>text</name>} in the map's order; counters ({@link StatusJson.Raw}) as their text. */
  private static void elements(StringBuilder b, Map<String, ?> fields) {
    for (Map.Entry<String, ?> e : fields.entrySet()) {
      String v = e.getValue() instanceof StatusJson.Raw(String json) ? json : (String) e.getValue();
      b.append('<').append(e.getKey()).append('>');
      text(b, v);
      b.append("</").append(e.getKey()).append('>');
    }
  }

  /** Escapes text content as libxml2 writes it: {@code & < >}, control characters dropped. */
  static void text(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '\t', '\n', '\r' -> b.append(c);
        default -> {
          if (c >= 0x20) {
            b.append(c);
          }
        }
      }
    }
  }

  private static void attr(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') {
        b.append("&quot;");
      } else if (c == '&') {
        b.append("&amp;");
      } else if (c == '<') {
        b.append("&lt;");
      } else if (c >= 0x20) {
        b.append(c);
      }
    }
  }
}
