package io.nocopy.internal.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A minimal io_uring for batches of non-blocking socket sends: the raw system calls ({@code
 * io_uring_setup} 425, {@code io_uring_enter} 426, through libc's {@code syscall}; no liburing), the
 * submission and completion rings mapped into the process, SQE writing and CQE reaping.
 *
 * <h2>Layout</h2>
 *
 * {@code io_uring_setup} fills a {@code struct io_uring_params} (120 bytes) whose {@code sq_off} (at
 * 40) and {@code cq_off} (at 80) give the offsets of each ring's head, tail, mask and arrays inside
 * the mapped region. With {@code IORING_FEAT_SINGLE_MMAP} (Linux 5.4+, required here) both rings
 * share one mapping at offset 0; the SQE array (64 bytes per entry) is a second mapping at {@code
 * IORING_OFF_SQES}. The SQ's index array is filled once with the identity (slot i submits SQE i),
 * so a submission is: write SQEs at {@code tail & mask}, then store the new tail. A CQE is 16 bytes:
 * {@code user_data} (8), {@code res} (4), {@code flags} (4).
 *
 * <h2>Memory ordering</h2>
 *
 * The SQ tail is stored with release semantics after the SQEs are written (the kernel reads them
 * after an acquire load of the tail); the CQ tail is loaded with acquire semantics before the CQEs
 * are read, and the CQ head is stored with release semantics after they were read (the kernel may
 * then overwrite them). The SQ head and CQ tail belong to the kernel, the SQ tail and CQ head to
 * this object.
 *
 * <h2>Sends</h2>
 *
 * {@link #prepareSend} writes one {@code IORING_OP_SEND} (one contiguous region), {@link
 * #prepareSendv} one {@code IORING_OP_SENDMSG} whose {@code msghdr} and {@code iovec}s live in a
 * scratch area per SQ slot (the kernel copies them while it submits, before the slot can be
 * reused). Callers pass {@code MSG_DONTWAIT}: the kernel then completes each send inline during
 * {@link #submitAndWait} with the bytes it took (a short count when the socket buffer filled) or
 * {@code -EAGAIN}, and never parks one for later. Sending to a descriptor closed meanwhile is the
 * caller's problem: pass only descriptors that stay open until the completion is reaped.
 *
 * <h2>Registered files</h2>
 *
 * {@link #registerFileTable} registers an empty (sparse) table of files with the ring; {@link
 * #setFile} puts a descriptor's file into a slot of it or clears the slot. A send prepared with
 * {@code fixedFile} names a slot instead of a descriptor: the ring holds its own reference to the
 * file, so the caller needs no descriptor of its own for it, and a send already submitted keeps
 * its file even if the slot is cleared or its descriptor closed meanwhile. A slot holds the socket
 * open (no FIN reaches the peer) until it is cleared or the ring closed.
 *
 * <h2>Ownership and threads</h2>
 *
 * The opener owns the ring and closes it once ({@link #close()}): the mappings, the scratch, the
 * registered files and the ring's descriptor. One thread prepares, submits and reaps; {@link
 * #setFile} may be called from any thread, also while that thread submits or closes the ring
 * (the kernel serialises its register calls with submissions). Because of that the ring is never
 * set up {@code IORING_SETUP_SINGLE_ISSUER}, which refuses register calls from other threads.
 *
 * <p>Available only where setup works: Linux with io_uring enabled ({@code
 * /proc/sys/kernel/io_uring_disabled} 0) and not refused by a seccomp profile (EPERM, ENOSYS); see
 * {@link #available()} and {@link #unavailableReason()}.
 */
public final class IoUring implements AutoCloseable {
  /** {@code MSG_DONTWAIT}: the send never blocks (EAGAIN instead). */
  public static final int MSG_DONTWAIT = 0x40;
  /** {@code MSG_NOSIGNAL}: a closed peer gives EPIPE, never SIGPIPE. */
  public static final int MSG_NOSIGNAL = 0x4000;
  /** The most regions one {@link #prepareSendv} takes. */
  public static final int MAX_IOV = 8;

  private static final long SYS_IO_URING_SETUP = 425;
  private static final long SYS_IO_URING_ENTER = 426;
  private static final long SYS_IO_URING_REGISTER = 427;
  private static final int REGISTER_FILES_UPDATE = 6;
  private static final int REGISTER_FILES2 = 13;
  private static final int RSRC_REGISTER_SPARSE = 1;
  private static final byte SQE_FIXED_FILE = 1;
  /** The most slots {@link #registerFileTable} takes (the kernel's own limit is higher). */
  public static final int MAX_FILES = 1 << 15;

  private static final int SETUP_CQSIZE = 1 << 3;
  private static final int SETUP_SUBMIT_ALL = 1 << 7;
  private static final int SETUP_COOP_TASKRUN = 1 << 8;
  private static final int FEAT_SINGLE_MMAP = 1;
  private static final int ENTER_GETEVENTS = 1;
  private static final long OFF_SQES = 0x10000000L;

  private static final byte OP_SENDMSG = 9;
  private static final byte OP_SEND = 26;

  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;

  private static final int PARAMS_SIZE = 120;
  private static final int SQE_SIZE = 64;
  private static final int CQE_SIZE = 16;
  private static final int MSGHDR_SIZE = GatheringSend.MSGHDR_SIZE;
  private static final int SCRATCH_SIZE = MSGHDR_SIZE + MAX_IOV * 16;

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private static final MethodHandle SYSCALL3; // (state, nr, a, b) long
  private static final MethodHandle SYSCALL6; // (state, nr, a, b, c, d, e, f) long
  private static final MethodHandle MMAP; // (state, addr, len, prot, flags, fd, off) address
  private static final MethodHandle MUNMAP; // (state, addr, len) int
  private static final String UNAVAILABLE;

  static {
    MethodHandle s3 = null, s6 = null, mmap = null, munmap = null;
    String why = Syscalls.unavailableReason();
    if (why == null) {
      try {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        ValueLayout L = ValueLayout.JAVA_LONG;
        ValueLayout I = ValueLayout.JAVA_INT;
        // syscall(long number, ...): every argument passed as a long (the kernel reads registers)
        s3 =
            linker.downcallHandle(
                libc.findOrThrow("syscall"),
                FunctionDescriptor.of(L, L, L, L),
                Linker.Option.firstVariadicArg(1),
                errno);
        s6 =
            linker.downcallHandle(
                libc.findOrThrow("syscall"),
                FunctionDescriptor.of(L, L, L, L, L, L, L, L),
                Linker.Option.firstVariadicArg(1),
                errno);
        mmap =
            linker.downcallHandle(
                libc.findOrThrow("mmap"), FunctionDescriptor.of(L, L, L, I, I, I, L), errno);
        munmap =
            linker.downcallHandle(libc.findOrThrow("munmap"), FunctionDescriptor.of(I, L, L), errno);
      } catch (RuntimeException e) {
        why = "io_uring downcalls unavailable: " + e;
      }
    }
    SYSCALL3 = s3;
    SYSCALL6 = s6;
    MMAP = mmap;
    MUNMAP = munmap;
    if (why == null) {
      why = probe();
    }
    UNAVAILABLE = why;
  }

  private final Arena arena = Arena.ofShared();
  private final MemorySegment state = arena.allocate(Syscalls.CAPTURE);
  private final int ringFd;
  private final MemorySegment rings; // both rings (single mmap)
  private final MemorySegment sqes;
  private final MemorySegment scratch; // msghdr + iovecs per SQ slot
  private final long ringsSize;
  private final long sqesSize;
  private final int sqEntries;
  private final int sqMask;
  private final long sqTailOff;
  private final long sqHeadOff;
  private final int cqMask;
  private final long cqHeadOff;
  private final long cqTailOff;
  private final long cqesOff;
  private int sqTail; // ours; the kernel reads it
  private int submitted; // the SQ tail the kernel has been told about
  private int cqHead; // ours; the kernel reads it
  private long cqeUserData;
  private int cqeRes;
  // register calls (any thread): their own errno capture and argument, closed flag under the lock
  private final Object registerLock = new Object();
  private final MemorySegment registerState = arena.allocate(Syscalls.CAPTURE);
  private final MemorySegment registerArg = arena.allocate(40, 8);
  private int files;
  private volatile boolean closed;

  private IoUring(int entries) throws IOException {
    MemorySegment p = arena.allocate(PARAMS_SIZE, 8);
    int flags = SETUP_CQSIZE | SETUP_SUBMIT_ALL | SETUP_COOP_TASKRUN;
    p.set(ValueLayout.JAVA_INT, 4, 2 * entries); // cq_entries
    p.set(ValueLayout.JAVA_INT, 8, flags);
    long fd = syscall3(SYS_IO_URING_SETUP, entries, p.address());
    if (fd < 0) {
      arena.close();
      throw Syscalls.exception("io_uring_setup", (int) -fd);
    }
    ringFd = (int) fd;
    try {
      if ((p.get(ValueLayout.JAVA_INT, 20) & FEAT_SINGLE_MMAP) == 0) {
        throw new IOException("io_uring without IORING_FEAT_SINGLE_MMAP (Linux before 5.4)");
      }
      sqEntries = p.get(ValueLayout.JAVA_INT, 0);
      int cqEntries = p.get(ValueLayout.JAVA_INT, 4);
      long sqArray = p.get(ValueLayout.JAVA_INT, 40 + 24);
      long cqes = p.get(ValueLayout.JAVA_INT, 80 + 20);
      ringsSize = Math.max(sqArray + 4L * sqEntries, cqes + (long) CQE_SIZE * cqEntries);
      sqesSize = (long) SQE_SIZE * sqEntries;
      rings = map(ringsSize, 0);
      MemorySegment sq;
      try {
        sq = map(sqesSize, OFF_SQES);
      } catch (IOException e) {
        unmap(rings, ringsSize);
        throw e;
      }
      sqes = sq;
      sqHeadOff = p.get(ValueLayout.JAVA_INT, 40);
      sqTailOff = p.get(ValueLayout.JAVA_INT, 40 + 4);
      sqMask = rings.get(ValueLayout.JAVA_INT, p.get(ValueLayout.JAVA_INT, 40 + 8));
      cqHeadOff = p.get(ValueLayout.JAVA_INT, 80);
      cqTailOff = p.get(ValueLayout.JAVA_INT, 80 + 4);
      cqMask = rings.get(ValueLayout.JAVA_INT, p.get(ValueLayout.JAVA_INT, 80 + 8));
      cqesOff = cqes;
      for (int i = 0; i < sqEntries; i++) {
        rings.set(ValueLayout.JAVA_INT, sqArray + 4L * i, i);
      }
      sqTail = (int) INT.getAcquire(rings, sqTailOff);
      submitted = sqTail;
      cqHead = (int) INT.getAcquire(rings, cqHeadOff);
      scratch = arena.allocate((long) SCRATCH_SIZE * sqEntries, 8);
    } catch (IOException | RuntimeException e) {
      new Syscalls().close(ringFd);
      arena.close();
      throw e;
    }
  }

  /**
   * Opens a ring with at least {@code entries} submission slots (the kernel rounds up to a power
   * of two) and twice as many completion slots.
   *
   * @param entries submission slots, 1 .. 32768
   * @return a new ring owned by the caller, who closes it
   * @throws IOException if setup or mapping fails (the message names the call and errno)
   * @throws UnsupportedOperationException if io_uring is not {@link #available()}
   */
  public static IoUring open(int entries) throws IOException {
    if (UNAVAILABLE != null) {
      throw new UnsupportedOperationException("io_uring unavailable: " + UNAVAILABLE);
    }
    if (entries < 1 || entries > 32768) {
      throw new IllegalArgumentException("io_uring entries outside 1..32768: " + entries);
    }
    return new IoUring(entries);
  }

  /**
   * Whether rings can be set up in this process (probed once: a two-entry ring was set up, mapped
   * and closed).
   *
   * @return true where {@link #open} works
   */
  public static boolean available() {
    return UNAVAILABLE == null;
  }

  /**
   * Why io_uring cannot be used, for a log line.
   *
   * @return the reason, or null when {@link #available()}
   */
  public static String unavailableReason() {
    return UNAVAILABLE;
  }

  private static String probe() {
    try {
      String disabled =
          Files.readAllLines(Path.of("/proc/sys/kernel/io_uring_disabled")).get(0).strip();
      if (disabled.equals("2")) {
        return "io_uring is disabled by the kernel (sysctl kernel.io_uring_disabled=2)";
      }
    } catch (IOException | RuntimeException e) {
      // kernels before 6.6 have no such sysctl: the setup below decides
    }
    try (IoUring r = new IoUring(2)) {
      return null;
    } catch (IOException e) {
      String m = e.getMessage();
      if (m.contains("EPERM")) {
        return "io_uring_setup is not permitted (kernel.io_uring_disabled=1 outside its group, or a"
            + " seccomp profile): " + m;
      }
      if (m.contains("errno 38")) {
        return "io_uring_setup is not implemented or blocked by a seccomp profile (ENOSYS)";
      }
      return m;
    } catch (RuntimeException e) {
      return "io_uring probe failed: " + e;
    }
  }

  private long syscall3(long nr, long a, long b) {
    try {
      long r = (long) SYSCALL3.invokeExact(state, nr, a, b);
      return r >= 0 ? r : -errno();
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
  }

  private int errno() {
    return (int) Syscalls.ERRNO.get(state, 0L);
  }

  private MemorySegment map(long size, long offset) throws IOException {
    long a;
    try {
      a = (long) MMAP.invokeExact(state, 0L, size, PROT_READ_WRITE, MAP_SHARED_POPULATE, ringFd,
          offset);
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
    if (a == -1L) {
      throw Syscalls.exception("mmap of an io_uring", errno());
    }
    return MemorySegment.ofAddress(a).reinterpret(size);
  }

  private void unmap(MemorySegment m, long size) {
    try {
      int r = (int) MUNMAP.invokeExact(state, m.address(), size);
      assert r == 0;
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
  }

  /**
   * The number of submission slots.
   *
   * @return a power of two
   */
  public int capacity() {
    return sqEntries;
  }

  /**
   * SQEs prepared and not yet submitted.
   *
   * @return 0 .. {@link #capacity()}
   */
  public int prepared() {
    return sqTail - submitted;
  }

  /** The next free SQE's offset, or -1 when every slot holds an unsubmitted SQE. */
  private long nextSqe() {
    if (sqTail - (int) INT.getAcquire(rings, sqHeadOff) >= sqEntries) {
      return -1;
    }
    return (long) (sqTail & sqMask) * SQE_SIZE;
  }

  private void writeSqe(long at, byte op, int fd, boolean fixedFile, long addr, int len,
      int msgFlags, long userData) {
    MemorySegment q = sqes;
    q.set(ValueLayout.JAVA_BYTE, at, op);
    q.set(ValueLayout.JAVA_BYTE, at + 1, fixedFile ? SQE_FIXED_FILE : (byte) 0); // flags
    q.set(ValueLayout.JAVA_SHORT, at + 2, (short) 0); // ioprio
    q.set(ValueLayout.JAVA_INT, at + 4, fd);
    q.set(ValueLayout.JAVA_LONG, at + 8, 0L); // off
    q.set(ValueLayout.JAVA_LONG, at + 16, addr);
    q.set(ValueLayout.JAVA_INT, at + 24, len);
    q.set(ValueLayout.JAVA_INT, at + 28, msgFlags);
    q.set(ValueLayout.JAVA_LONG, at + 32, userData);
    q.set(ValueLayout.JAVA_LONG, at + 40, 0L); // buf_index, personality, file_index
    q.set(ValueLayout.JAVA_LONG, at + 48, 0L); // addr3
    q.set(ValueLayout.JAVA_LONG, at + 56, 0L);
    sqTail++;
  }

  /**
   * Prepares {@code send(fd, address, length, msgFlags)}; nothing reaches the kernel before {@link
   * #submitAndWait}.
   *
   * @param fd a socket that stays open until this send's completion is reaped, or with {@code
   *     fixedFile} a slot of the {@linkplain #registerFileTable registered table}
   * @param fixedFile whether {@code fd} is a slot
   * @param address native address of {@code length} bytes kept alive until the completion is
   *     reaped
   * @param length bytes to send
   * @param msgFlags {@code MSG_*} flags ({@link #MSG_DONTWAIT} for a send that never waits)
   * @param userData returned with the completion
   * @return false if every submission slot is taken (submit first)
   */
  public boolean prepareSend(
      int fd, boolean fixedFile, long address, int length, int msgFlags, long userData) {
    long at = nextSqe();
    if (at < 0) {
      return false;
    }
    writeSqe(at, OP_SEND, fd, fixedFile, address, length, msgFlags, userData);
    return true;
  }

  /**
   * Prepares {@code sendmsg(fd, {iov of count regions}, msgFlags)}: one gathering send.
   *
   * @param fd a socket that stays open until this send's completion is reaped, or with {@code
   *     fixedFile} a slot of the {@linkplain #registerFileTable registered table}
   * @param fixedFile whether {@code fd} is a slot
   * @param addresses the regions' native addresses, kept alive until the completion is reaped
   * @param lengths the regions' lengths
   * @param count regions, 1 .. {@link #MAX_IOV}
   * @param msgFlags {@code MSG_*} flags
   * @param userData returned with the completion
   * @return false if every submission slot is taken (submit first)
   * @throws IllegalArgumentException if {@code count} is out of range
   */
  public boolean prepareSendv(int fd, boolean fixedFile, long[] addresses, int[] lengths,
      int count, int msgFlags, long userData) {
    if (count < 1 || count > MAX_IOV) {
      throw new IllegalArgumentException("regions outside 1.." + MAX_IOV + ": " + count);
    }
    long at = nextSqe();
    if (at < 0) {
      return false;
    }
    MemorySegment s = scratch;
    long m = (long) (sqTail & sqMask) * SCRATCH_SIZE;
    long iov = m + MSGHDR_SIZE;
    for (int i = 0; i < count; i++) {
      s.set(ValueLayout.JAVA_LONG, iov + 16L * i, addresses[i]);
      s.set(ValueLayout.JAVA_LONG, iov + 16L * i + 8, lengths[i]);
    }
    GatheringSend.msghdr(s, m, s.address() + iov, count);
    writeSqe(at, OP_SENDMSG, fd, fixedFile, s.address() + m, 1, msgFlags, userData);
    return true;
  }

  /**
   * Submits every prepared SQE with one {@code io_uring_enter} and waits until at least {@code
   * minComplete} completions are ready (sends with {@code MSG_DONTWAIT} complete during the
   * submission itself, so this does not sleep for them).
   *
   * @param minComplete completions to wait for, 0 .. the SQEs in flight
   * @return SQEs the kernel consumed, or {@code -errno} (EINTR, EBUSY while completions wait to
   *     be reaped); SQEs it did not consume stay prepared
   */
  public int submitAndWait(int minComplete) {
    int n = sqTail - submitted;
    INT.setRelease(rings, sqTailOff, sqTail);
    long r;
    try {
      r = (long) SYSCALL6.invokeExact(state, SYS_IO_URING_ENTER, (long) ringFd, (long) n,
          (long) minComplete, (long) (minComplete > 0 ? ENTER_GETEVENTS : 0), 0L, 0L);
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
    if (r < 0) {
      return -errno();
    }
    submitted += (int) r;
    return (int) r;
  }

  /**
   * Takes the oldest completion, if there is one: read it with {@link #userData()} and {@link
   * #result()} until the next call.
   *
   * @return false when no completion is ready
   */
  public boolean nextCompletion() {
    int tail = (int) INT.getAcquire(rings, cqTailOff);
    if (cqHead == tail) {
      return false;
    }
    long at = cqesOff + (long) (cqHead & cqMask) * CQE_SIZE;
    cqeUserData = rings.get(ValueLayout.JAVA_LONG, at);
    cqeRes = rings.get(ValueLayout.JAVA_INT, at + 8);
    cqHead++;
    INT.setRelease(rings, cqHeadOff, cqHead);
    return true;
  }

  /**
   * The {@code user_data} of the completion taken by {@link #nextCompletion()}.
   *
   * @return the value given when the SQE was prepared
   */
  public long userData() {
    return cqeUserData;
  }

  /**
   * The result of the completion taken by {@link #nextCompletion()}.
   *
   * @return bytes sent, or {@code -errno} (EAGAIN: the socket took nothing now)
   */
  public int result() {
    return cqeRes;
  }

  /**
   * Registers an empty table of {@code slots} files ({@code IORING_REGISTER_FILES2} with {@code
   * IORING_RSRC_REGISTER_SPARSE}, Linux 5.19+), once per ring. The kernel keeps about 8 bytes per
   * slot and refuses more slots than the process's open-file limit ({@code EMFILE}).
   *
   * @param slots 1 .. {@link #MAX_FILES}
   * @return 0, or {@code -errno} (the ring then has no table and sends name descriptors)
   * @throws IllegalArgumentException if {@code slots} is out of range
   * @throws IllegalStateException if a table is already registered
   */
  public int registerFileTable(int slots) {
    if (slots < 1 || slots > MAX_FILES) {
      throw new IllegalArgumentException("file slots outside 1.." + MAX_FILES + ": " + slots);
    }
    synchronized (registerLock) {
      if (files != 0) {
        throw new IllegalStateException("this ring already has a file table of " + files);
      }
      if (closed) {
        return -Syscalls.EBADF;
      }
      MemorySegment a = registerArg; // struct io_uring_rsrc_register
      a.fill((byte) 0);
      a.set(ValueLayout.JAVA_INT, 0, slots); // nr
      a.set(ValueLayout.JAVA_INT, 4, RSRC_REGISTER_SPARSE); // flags
      int r = register(REGISTER_FILES2, a.address(), 32);
      if (r >= 0) {
        files = slots;
        return 0;
      }
      return r;
    }
  }

  /**
   * The slots of the registered table.
   *
   * @return its size, 0 when none is registered
   */
  public int fileSlots() {
    synchronized (registerLock) {
      return files;
    }
  }

  /**
   * Puts {@code fd}'s file into {@code slot} of the registered table, or clears the slot ({@code
   * fd} -1). Any thread. The ring takes its own reference to the file: the caller may close
   * {@code fd} afterwards; clearing drops the reference once sends already submitted with the
   * slot have completed.
   *
   * @param slot 0 .. {@link #fileSlots()} - 1
   * @param fd an open descriptor, or -1 to clear
   * @return 0, or {@code -errno} ({@code EBADF} also once the ring is closed)
   */
  public int setFile(int slot, int fd) {
    synchronized (registerLock) {
      if (closed || slot < 0 || slot >= files) {
        return -Syscalls.EBADF;
      }
      MemorySegment a = registerArg; // struct io_uring_files_update, then the one fd at 16
      a.set(ValueLayout.JAVA_INT, 0, slot); // offset
      a.set(ValueLayout.JAVA_INT, 4, 0); // resv
      a.set(ValueLayout.JAVA_LONG, 8, a.address() + 16); // fds
      a.set(ValueLayout.JAVA_INT, 16, fd);
      int r = register(REGISTER_FILES_UPDATE, a.address(), 1);
      return r == 1 ? 0 : r < 0 ? r : -Syscalls.EINVAL;
    }
  }

  /** {@code io_uring_register(ring, opcode, arg, nr)}, under the register lock. */
  private int register(int opcode, long arg, int nr) {
    long r;
    try {
      r = (long) SYSCALL6.invokeExact(registerState, SYS_IO_URING_REGISTER, (long) ringFd,
          (long) opcode, arg, (long) nr, 0L, 0L);
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
    return r >= 0 ? (int) r : -(int) Syscalls.ERRNO.get(registerState, 0L);
  }

  /**
   * Unmaps the rings and closes the ring's descriptor, which drops the registered files. Idempotent.
   */
  @Override
  public void close() {
    synchronized (registerLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    unmap(sqes, sqesSize);
    unmap(rings, ringsSize);
    new Syscalls().close(ringFd);
    arena.close();
  }
}
