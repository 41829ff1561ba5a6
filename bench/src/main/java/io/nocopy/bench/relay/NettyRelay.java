package io.nocopy.bench.relay;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The JVM baseline of the relay benchmark, written the way most people would write a stream relay
 * with Netty: sources publish a mount with {@code PUT} (with {@code Expect: 100-continue}) or
 * {@code SOURCE} and Basic auth as {@code source:<password>}; listeners {@code GET} the mount; each
 * {@link ByteBuf} a source's channel reads is sent to every listener channel as a
 * {@link ByteBuf#retainedDuplicate()} with {@code writeAndFlush}, and a listener whose outbound
 * buffer is above the high-water mark (not {@link Channel#isWritable()}) is dropped. Netty's
 * defaults otherwise: NIO transport, pooled direct buffers, 2 x cores worker threads.
 *
 * <p>{@code GET /admin/nocopy-stats.json} answers this JVM's CPU time, heap allocation and GC
 * count in the same fields as the nocopy relay's document, so that the harness can read them.
 *
 * <p>Run: {@code java -cp benchmarks.jar io.nocopy.bench.relay.NettyRelay 127.0.0.1:8000 PASSWORD
 * [HIGH_WATER_BYTES]}. Binds the given address (use 127.0.0.1). Owns its event loops until the
 * JVM exits.
 */
public final class NettyRelay {
  /** Default per-listener high-water mark: Icecast's default queue size (512 KiB) doubled. */
  static final int DEFAULT_HIGH_WATER = 1 << 20;

  private final String password;
  private final ConcurrentMap<String, Mount> mounts = new ConcurrentHashMap<>();

  /** One published mount: its source and its listeners. */
  private static final class Mount {
    final Set<Channel> listeners = ConcurrentHashMap.newKeySet();
  }

  private NettyRelay(String password) {
    this.password = password;
  }

  /**
   * Starts the relay and blocks until its server channel closes.
   *
   * @param args {@code HOST:PORT PASSWORD [HIGH_WATER_BYTES]}
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2 || args.length > 3 || args[0].lastIndexOf(':') <= 0) {
      System.err.println("usage: NettyRelay HOST:PORT PASSWORD [HIGH_WATER_BYTES]");
      System.exit(2);
    }
    int colon = args[0].lastIndexOf(':');
    InetSocketAddress at = new InetSocketAddress(args[0].substring(0, colon), Integer.parseInt(args[0].substring(colon + 1)));
    int high = args.length == 3 ? Integer.parseInt(args[2]) : DEFAULT_HIGH_WATER;
    NettyRelay relay = new NettyRelay(args[1]);
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
    try {
      Channel server = new ServerBootstrap()
          .group(boss, workers)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 2, high))
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(relay.new HeadHandler());
            }
          })
          .bind(at).sync().channel();
      System.out.println("netty relay listening on " + at + " (high-water mark " + high + " bytes per listener)");
      server.closeFuture().sync();
    } finally {
      boss.shutdownGracefully();
      workers.shutdownGracefully();
    }
  }

  /** Reads a request head (at most {@link RequestHead#MAX} bytes), then hands the channel on. */
  private final class HeadHandler extends ChannelInboundHandlerAdapter {
    private ByteBuf head;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      if (head == null) {
        head = ctx.alloc().buffer(512, RequestHead.MAX);
      }
      int take = Math.min(in.readableBytes(), head.maxWritableBytes());
      head.writeBytes(in, take);
      int end = indexOfBlankLine(head);
      if (end < 0) {
        in.release();
        if (!head.isWritable()) {
          reply(ctx, "HTTP/1.0 431 Request Header Fields Too Large\r\n\r\n");
        }
        return;
      }
      // body bytes that came with the head: what follows the blank line in head, then the rest of in
      ByteBuf rest = head.retainedSlice(end + 4, head.writerIndex() - end - 4);
      String text = head.toString(head.readerIndex(), end, StandardCharsets.ISO_8859_1);
      head.release();
      head = null;
      ByteBuf body = Unpooled.wrappedBuffer(rest, in); // takes ownership of both
      try {
        route(ctx, RequestHead.parse(text), body);
      } catch (ProtocolException e) {
        body.release();
        reply(ctx, "HTTP/1.0 400 Bad Request\r\n\r\n");
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      if (head != null) {
        head.release();
        head = null;
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static int indexOfBlankLine(ByteBuf b) {
    for (int i = b.readerIndex(); i + 3 < b.writerIndex(); i++) {
      if (b.getByte(i) == '\r' && b.getByte(i + 1) == '\n' && b.getByte(i + 2) == '\r' && b.getByte(i + 3) == '\n') {
        return i - b.readerIndex();
      }
    }
    return -1;
  }

  private void route(ChannelHandlerContext ctx, RequestHead req, ByteBuf body) {
    boolean source = req.method().equals("PUT") || req.method().equals("SOURCE");
    if (req.method().equals("GET") && req.path().equals("/admin/nocopy-stats.json")) {
      body.release();
      String json = stats();
      reply(ctx, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + json.length() + "\r\n\r\n" + json);
    } else if (req.method().equals("GET")) {
      body.release();
      Mount m = mounts.get(req.path());
      if (m == null) {
        reply(ctx, "HTTP/1.0 404 Not Found\r\n\r\n");
        return;
      }
      Channel ch = ctx.channel();
      ctx.pipeline().replace(ctx.handler(), "listener", new ListenerHandler(m));
      ch.writeAndFlush(ascii("HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nCache-Control: no-cache\r\n"
          + "Connection: close\r\n\r\n"));
      m.listeners.add(ch);
    } else if (source) {
      if (!req.sourceAuthorized(password)) {
        body.release();
        reply(ctx, "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"relay\"\r\n\r\n");
        return;
      }
      Mount m = new Mount();
      if (mounts.putIfAbsent(req.path(), m) != null) {
        body.release();
        reply(ctx, "HTTP/1.0 403 Mountpoint in use\r\n\r\n");
        return;
      }
      if (req.expectsContinue()) {
        ctx.write(ascii("HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n"));
      }
      ctx.writeAndFlush(ascii("HTTP/1.0 200 OK\r\n\r\n"));
      ctx.pipeline().replace(ctx.handler(), "source", new SourceHandler(req.path(), m));
      if (body.isReadable()) {
        ctx.pipeline().fireChannelRead(body);
      } else {
        body.release();
      }
    } else {
      body.release();
      reply(ctx, "HTTP/1.0 405 Method Not Allowed\r\n\r\n");
    }
  }

  /** A source's channel: fans each buffer out to the mount's listeners. */
  private final class SourceHandler extends ChannelInboundHandlerAdapter {
    private final String path;
    private final Mount mount;

    SourceHandler(String path, Mount mount) {
      this.path = path;
      this.mount = mount;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        for (Channel listener : mount.listeners) {
          if (!listener.isWritable()) { // too far behind: drop it
            mount.listeners.remove(listener);
            listener.close();
            continue;
          }
          listener.writeAndFlush(buf.retainedDuplicate());
        }
      } finally {
        buf.release();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      mounts.remove(path, mount);
      for (Channel listener : mount.listeners) { // the end of the stream: flush what is queued, then close
        listener.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      mount.listeners.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** A listener's channel: ignores what the client sends, leaves the mount when closed. */
  private static final class ListenerHandler extends ChannelInboundHandlerAdapter {
    private final Mount mount;

    ListenerHandler(Mount mount) {
      this.mount = mount;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      mount.listeners.remove(ctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static void reply(ChannelHandlerContext ctx, String response) {
    ctx.writeAndFlush(ascii(response)).addListener(ChannelFutureListener.CLOSE);
  }

  private static ByteBuf ascii(String s) {
    return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** This JVM's costs, in the fields of the nocopy relay's {@code /admin/nocopy-stats.json}. */
  private String stats() {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long gc = 0;
    for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) {
      gc += Math.max(0, g.getCollectionCount());
    }
    long listeners = 0;
    for (Mount m : mounts.values()) {
      listeners += m.listeners.size();
    }
    return "{\"engine\":\"netty\",\"cpu_ns\":" + os.getProcessCpuTime() + ",\"allocated_bytes\":"
        + threads.getTotalThreadAllocatedBytes() + ",\"gc_count\":" + gc + ",\"listeners\":" + listeners + "}";
  }
}
