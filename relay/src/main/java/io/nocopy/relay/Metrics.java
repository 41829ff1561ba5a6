package io.nocopy.relay;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.PoolStats;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * {@code /metrics}: the relay in the Prometheus text format (version 0.0.4), for the monitoring an
 * operator already runs. Every family has its {@code # HELP} and {@code # TYPE}; counters end in
 * {@code _total}; label values are escaped as the format says.
 *
 * <ul>
 *   <li>per mount ({@code mount} label): listeners now and at most, bytes in and out, whether a
 *       source is connected (configured mounts without one show 0), listeners per transport,
 *       the mount's transport and whether its sends go through io_uring, listeners dropped by reason ({@code too_slow}, {@code
 *       client_timeout}, {@code admin_kill});
 *   <li>the server: connections open and accepted, listeners and sources served, connections
 *       refused by each cap;
 *   <li>pooled memory per tier ({@code tier} label, its block size in {@code block_bytes}): blocks
 *       in use, carved, capacity, waits and exhaustions; bytes reserved and the cap;
 *   <li>the process: CPU seconds, resident memory, heap bytes allocated, and per collector the
 *       collections and their time.
 * </ul>
 *
 * A mount's series go away with the mount. Built on each request from counters the relay keeps
 * anyway; nothing here touches a stream byte.
 */
final class Metrics {
  /** The content type Prometheus asks for its text format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final StringBuilder b = new StringBuilder(4096);

  private Metrics() {}

  /**
   * The page.
   *
   * @param server the relay
   * @return the exposition text
   */
  static String render(RelayServer server) {
    Metrics m = new Metrics();
    m.mounts(server);
    m.server(server);
    m.pools(server.allocator());
    m.process();
    return m.b.toString();
  }

  private void mounts(RelayServer server) {
    List<MountSnapshot> live = server.mounts();
    TreeSet<String> names = new TreeSet<>(server.config().mounts().named().keySet());
    for (MountSnapshot s : live) {
      names.add(s.mount());
    }
    family("nocopy_mount_source_connected", "gauge", "1 while a source (or a relay pull) feeds the mount");
    for (String n : names) {
      sample("nocopy_mount_source_connected", server.mount(n) != null ? 1 : 0, "mount", n);
    }
    family("nocopy_mount_listeners", "gauge", "listeners connected to the mount now");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_listeners", s.listeners(), "mount", s.mount());
    }
    family("nocopy_mount_listener_peak", "gauge", "the most listeners the mount had at once");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_listener_peak", s.listenerPeak(), "mount", s.mount());
    }
    family("nocopy_mount_listeners_by_transport", "gauge",
        "listeners served by each transport (splice: kernel pipes; userspace: pooled slices)");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_listeners_by_transport", s.splicedListeners(), "mount", s.mount(), "transport", "splice");
      sample("nocopy_mount_listeners_by_transport", s.listeners() - s.splicedListeners(), "mount", s.mount(),
          "transport", "userspace");
    }
    family("nocopy_mount_transport_info", "gauge", "the transport the mount's fan-out uses (value 1)");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_transport_info", 1, "mount", s.mount(), "transport", s.engine());
    }
    family("nocopy_mount_io_uring", "gauge",
        "1 if the mount's sends to idle listeners are batched through io_uring, else 0");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_io_uring", s.ioUring() ? 1 : 0, "mount", s.mount());
    }
    family("nocopy_mount_received_bytes_total", "counter", "stream bytes received from the mount's source");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_received_bytes_total", s.bytesIn(), "mount", s.mount());
    }
    family("nocopy_mount_sent_bytes_total", "counter",
        "stream bytes sent to the mount's listeners, those gone included");
    for (MountSnapshot s : live) {
      sample("nocopy_mount_sent_bytes_total", s.bytesOut(), "mount", s.mount());
    }
    family("nocopy_mount_listener_drops_total", "counter", "listeners disconnected by the relay, by reason");
    for (MountSnapshot s : live) {
      Mount mount = server.mount(s.mount());
      for (Mount.Drop d : Mount.Drop.values()) {
        sample("nocopy_mount_listener_drops_total", mount == null ? 0 : mount.drops(d), "mount", s.mount(),
            "reason", d.label());
      }
    }
  }

  private void server(RelayServer server) {
    RelayServer.Totals t = server.totals();
    RelayServer.Counts c = server.counts();
    gauge("nocopy_listeners", "listeners connected now, all mounts", t.listeners());
    gauge("nocopy_sources", "live mounts now", t.mounts());
    gauge("nocopy_connections_open", "connections open now (sources, listeners, requests)",
        server.openConnections());
    counter("nocopy_connections_accepted_total", "connections accepted", c.connections());
    counter("nocopy_listener_connections_total", "listeners served", c.listeners());
    counter("nocopy_source_connections_total", "sources accepted (encoders)", c.sources());
    counter("nocopy_relay_connections_total", "mounts pulled from another server", c.relays());
    long[] refused = server.refusals();
    family("nocopy_connections_refused_total", "counter", "connections closed at once by a cap");
    sample("nocopy_connections_refused_total", refused[0], "cap", "max_connections");
    sample("nocopy_connections_refused_total", refused[1], "cap", "max_pending_per_ip");
    sample("nocopy_connections_refused_total", refused[2], "cap", "head_memory");
  }

  private void pools(Allocator a) {
    List<PoolStats> stats = a.stats();
    String[][] families = {
      {"nocopy_pool_blocks_in_use", "gauge", "pooled blocks owned by someone now"},
      {"nocopy_pool_blocks_carved", "gauge", "blocks carved from slabs (the rest cost no memory)"},
      {"nocopy_pool_blocks_capacity", "gauge", "the most blocks the tier may hold"},
      {"nocopy_pool_waits_total", "counter", "allocations that found the tier empty and waited"},
      {"nocopy_pool_exhaustions_total", "counter", "allocations that gave up: the tier stayed empty"},
    };
    for (int f = 0; f < families.length; f++) {
      family(families[f][0], families[f][1], families[f][2]);
      for (PoolStats p : stats) {
        long v = switch (f) {
          case 0 -> p.inUse();
          case 1 -> p.created();
          case 2 -> p.capacity();
          case 3 -> p.waits();
          default -> p.exhaustions();
        };
        sample(families[f][0], v, "tier", p.tier().name().toLowerCase(Locale.ROOT), "block_bytes",
            Long.toString(p.tier().size()));
      }
    }
    gauge("nocopy_pool_reserved_bytes", "bytes of pooled memory reserved from the OS", a.reservedBytes());
    gauge("nocopy_pool_max_bytes", "the cap on pooled memory (--memory-cap)", a.maxBytes());
  }

  private void process() {
    ProcessStats.Reading r = ProcessStats.read();
    family("process_cpu_seconds_total", "counter", "user and system CPU time of the process");
    b.append("process_cpu_seconds_total ").append(seconds(r.cpuNanos(), 1_000_000_000L)).append('\n');
    if (r.rssBytes() >= 0) {
      gauge("process_resident_memory_bytes", "resident set size", r.rssBytes());
    }
    gauge("process_start_time_seconds", "when the process started, seconds since the epoch",
        ManagementFactory.getRuntimeMXBean().getStartTime() / 1000);
    if (r.allocatedBytes() >= 0) {
      counter("jvm_allocated_bytes_total", "heap bytes allocated by all threads", r.allocatedBytes());
    }
    List<GarbageCollectorMXBean> gcs = new ArrayList<>(ManagementFactory.getGarbageCollectorMXBeans());
    family("jvm_gc_collections_total", "counter", "garbage collections, by collector");
    for (GarbageCollectorMXBean g : gcs) {
      sample("jvm_gc_collections_total", Math.max(0, g.getCollectionCount()), "gc", g.getName());
    }
    family("jvm_gc_collection_seconds_total", "counter", "time spent in garbage collections, by collector");
    for (GarbageCollectorMXBean g : gcs) {
      b.append("jvm_gc_collection_seconds_total");
      labels("gc", g.getName());
      b.append(' ').append(seconds(Math.max(0, g.getCollectionTime()), 1000)).append('\n');
    }
  }

  // --- the format ---------------------------------------------------------------------------

  private void gauge(String name, String help, long v) {
    family(name, "gauge", help);
    b.append(name).append(' ').append(v).append('\n');
  }

  private void counter(String name, String help, long v) {
    family(name, "counter", help);
    b.append(name).append(' ').append(v).append('\n');
  }

  private void family(String name, String type, String help) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private void sample(String name, long v, String... labels) {
    b.append(name);
    labels(labels);
    b.append(' ').append(v).append('\n');
  }

  private void labels(String... kv) {
    b.append('{');
    for (int i = 0; i < kv.length; i += 2) {
      if (i > 0) {
        b.append(',');
      }
      b.append(kv[i]).append("=\"");
      escape(kv[i + 1]);
      b.append('"');
    }
    b.append('}');
  }

  /** A label value: backslash, double quote and line feed escaped, as the text format wants. */
  private void escape(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '\\' -> b.append("\\\\");
        case '"' -> b.append("\\\"");
        case '\n' -> b.append("\\n");
        default -> b.append(c);
      }
    }
  }

  /** {@code units / perSecond} as a decimal number of seconds. */
  private static String seconds(long units, long perSecond) {
    return java.math.BigDecimal.valueOf(units).divide(java.math.BigDecimal.valueOf(perSecond))
        .stripTrailingZeros().toPlainString();
  }
}
