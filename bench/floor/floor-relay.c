/*
 * The floor: the smallest relay of the shape every relay in the fan-out harness has, written to
 * cost as little as such a relay can. One thread, one epoll set. A source (PUT or SOURCE, as
 * Icecast sources speak; no password check) is read when readable, and each read is sent to every
 * listener (GET) with one non-blocking send(2). No queues, no burst, no HTTP beyond the first line:
 * a listener whose socket cannot take a whole read is dropped (the harness's listeners keep up,
 * so none is). With a coalescing window W ms, the source is read at most once per W ms (the same
 * pacing as the relays' default), so both latency classes have a floor.
 *
 *   cc -O2 -o floor-relay floor-relay.c
 *   ./floor-relay 127.0.0.1 PORT [COALESCE_MS]
 *
 * Built with -DFLOOR_URING (and -luring), the sends of one read go to the kernel as one io_uring
 * submission instead of one send(2) each: one IORING_OP_SEND per listener, non-blocking like the
 * send(2) path, on registered (fixed) descriptors, all submitted with a single io_uring_enter. The
 * comparison of the two builds says how much of a listener's cost is the system call itself.
 *
 *   cc -O2 -DFLOOR_URING -o floor-relay-uring floor-relay.c -luring
 *
 * Prints one line per source and per dropped listener to stderr; SIGTERM stops it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef FLOOR_URING
#include <liburing.h>
#include <sys/resource.h>
#define RING_ENTRIES 4096
static struct io_uring ring;
#endif

#define MAX_FDS 65536
#define CHUNK (64 * 1024)
#define HEAD_MAX 8192

enum kind { FREE, PENDING, SOURCE, LISTENER };
struct conn { enum kind kind; int head_len; char head[HEAD_MAX]; };
static struct conn *conns;
static int listeners[MAX_FDS];
static int nlisteners;
static int source_fd = -1;
static int ep;
static int coalesce_ms;

static void drop(int fd) {
  if (conns[fd].kind == LISTENER) {
    for (int i = 0; i < nlisteners; i++) {
      if (listeners[i] == fd) { listeners[i] = listeners[--nlisteners]; break; }
    }
  }
  if (fd == source_fd) source_fd = -1;
#ifdef FLOOR_URING
  if (conns[fd].kind == LISTENER) {
    int none = -1;
    io_uring_register_files_update(&ring, fd, &none, 1); /* the fixed slot of fd is fd */
  }
#endif
  conns[fd].kind = FREE;
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
}

static int send_all(int fd, const char *s) {
  size_t n = strlen(s);
  return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : -1;
}

/* A whole request head arrived on fd: make it a source or a listener. */
static void route(int fd) {
  struct conn *c = &conns[fd];
  if (strncmp(c->head, "PUT ", 4) == 0 || strncmp(c->head, "SOURCE ", 7) == 0) {
    if (source_fd >= 0) { send_all(fd, "HTTP/1.0 403 Forbidden\r\n\r\n"); drop(fd); return; }
    if (strncmp(c->head, "PUT ", 4) == 0 && strcasestr(c->head, "\nExpect: 100-continue")) {
      send_all(fd, "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n");
    }
    send_all(fd, "HTTP/1.0 200 OK\r\n\r\n");
    c->kind = SOURCE;
    source_fd = fd;
    if (coalesce_ms > 0) epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); /* read on the clock, not on readiness */
    fprintf(stderr, "floor-relay: source connected\n");
  } else if (strncmp(c->head, "GET ", 4) == 0) {
    if (send_all(fd, "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nCache-Control: no-cache\r\n\r\n") < 0) {
      drop(fd);
      return;
    }
    c->kind = LISTENER;
    listeners[nlisteners++] = fd;
#ifdef FLOOR_URING
    if (io_uring_register_files_update(&ring, fd, &fd, 1) != 1) { drop(fd); return; }
#endif
    struct epoll_event ev = {.events = EPOLLRDHUP, .data.fd = fd}; /* only its hang-up matters */
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  } else {
    send_all(fd, "HTTP/1.0 405 Method Not Allowed\r\n\r\n");
    drop(fd);
  }
}

#ifdef FLOOR_URING
/* One IORING_OP_SEND per listener, submitted together (RING_ENTRIES at a time); a listener whose
 * send did not take all r bytes is dropped, as in the send(2) path. */
static void send_all_uring(ssize_t r, const char *buf) {
  static int short_fds[MAX_FDS];
  int nshort = 0;
  for (int first = 0; first < nlisteners; first += RING_ENTRIES) {
    int batch = nlisteners - first < RING_ENTRIES ? nlisteners - first : RING_ENTRIES;
    for (int i = 0; i < batch; i++) {
      struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
      io_uring_prep_send(sqe, listeners[first + i], buf, r, MSG_DONTWAIT | MSG_NOSIGNAL);
      sqe->flags |= IOSQE_FIXED_FILE;
      io_uring_sqe_set_data64(sqe, (unsigned) listeners[first + i]);
    }
    io_uring_submit_and_wait(&ring, batch);
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      if (cqe->res != r) short_fds[nshort++] = (int) io_uring_cqe_get_data64(cqe);
      seen++;
    }
    io_uring_cq_advance(&ring, seen);
  }
  for (int i = 0; i < nshort; i++) {
    fprintf(stderr, "floor-relay: listener %d could not take %zd bytes: dropped\n", short_fds[i], r);
    drop(short_fds[i]);
  }
}
#endif

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: floor-relay ADDRESS PORT [COALESCE_MS]\n"); return 2; }
  coalesce_ms = argc > 3 ? atoi(argv[3]) : 0;
  signal(SIGPIPE, SIG_IGN);
  conns = calloc(MAX_FDS, sizeof *conns);
  int srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  if (bind(srv, (struct sockaddr *) &a, sizeof a) < 0 || listen(srv, 4096) < 0) { perror("bind/listen"); return 1; }
  ep = epoll_create1(EPOLL_CLOEXEC);
#ifdef FLOOR_URING
  struct io_uring_params p = {.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN
      | IORING_SETUP_SINGLE_ISSUER, .cq_entries = 2 * RING_ENTRIES};
  p.flags |= IORING_SETUP_CQSIZE;
  int err = io_uring_queue_init_params(RING_ENTRIES, &ring, &p);
  if (err < 0) { fprintf(stderr, "floor-relay: io_uring: %s\n", strerror(-err)); return 1; }
  struct rlimit nofile; /* a descriptor is below the open-file limit: that many fixed slots */
  getrlimit(RLIMIT_NOFILE, &nofile);
  unsigned slots = nofile.rlim_cur < MAX_FDS ? (unsigned) nofile.rlim_cur : MAX_FDS;
  if ((err = io_uring_register_files_sparse(&ring, slots)) < 0) {
    fprintf(stderr, "floor-relay: io_uring fixed files: %s\n", strerror(-err));
    return 1;
  }
#endif
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = srv};
  epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev);
  static char buf[CHUNK];
  struct epoll_event events[256];
  long long next_read = 0;
  for (;;) {
    int timeout = -1;
    if (coalesce_ms > 0 && source_fd >= 0) {
      long long wait = next_read - now_ms();
      timeout = wait > 0 ? (int) wait : 0;
    }
    int n = epoll_wait(ep, events, 256, timeout);
    int source_ready = 0;
    if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 1; }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == srv) {
        int c;
        while ((c = accept4(srv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          if (c >= MAX_FDS) { close(c); continue; }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[c].kind = PENDING;
          conns[c].head_len = 0;
          struct epoll_event e = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
      } else if (conns[fd].kind == PENDING) {
        struct conn *c = &conns[fd];
        ssize_t r = recv(fd, c->head + c->head_len, HEAD_MAX - 1 - c->head_len, 0);
        if (r <= 0) { if (r == 0 || errno != EAGAIN) drop(fd); continue; }
        c->head_len += r;
        c->head[c->head_len] = 0;
        if (strstr(c->head, "\r\n\r\n")) route(fd);
        else if (c->head_len >= HEAD_MAX - 1) drop(fd);
      } else if (conns[fd].kind == LISTENER) {
        drop(fd); /* a listener only ever hangs up */
      } else if (conns[fd].kind == SOURCE) {
        source_ready = 1;
      }
    }
    if (source_fd < 0 || (coalesce_ms == 0 ? !source_ready : now_ms() < next_read)) continue;
    if (coalesce_ms > 0) next_read = now_ms() + coalesce_ms;
    for (;;) {
      ssize_t r = recv(source_fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        fprintf(stderr, "floor-relay: source ended\n");
        drop(source_fd);
        while (nlisteners > 0) drop(listeners[0]);
        break;
      }
      if (r < 0) break; /* drained (EINTR: next round) */
#ifdef FLOOR_URING
      send_all_uring(r, buf);
#else
      for (int i = 0; i < nlisteners; ) {
        if (send(listeners[i], buf, r, MSG_DONTWAIT | MSG_NOSIGNAL) != r) {
          fprintf(stderr, "floor-relay: listener %d could not take %zd bytes: dropped\n", listeners[i], r);
          drop(listeners[i]);
        } else {
          i++;
        }
      }
#endif
      if (coalesce_ms == 0 || r < (ssize_t) sizeof buf) break;
    }
  }
}
