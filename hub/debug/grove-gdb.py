# hub/debug/grove-gdb.py — gdb commands that show grove's greenlets.
#
#   (gdb) source hub/debug/grove-gdb.py        # or: gdb -x hub/debug/grove-gdb.py -p PID
#   (gdb) grove greenlets                      # every fiber of every hub of the process
#   (gdb) grove bt 7                           # the backtrace of fiber 7, where it is parked
#
# Works on a live process (gdb -p PID) and on a core file (gdb PROGRAM CORE), x86-64 Linux.
#
# How it finds the fibers: the hub publishes `grove_debug_layout` (hub/debugger.cc), an array
# of 64-bit words giving the address of the process-wide list of hubs and the offsets of the
# fields read here, so nothing depends on type information (grove is built with -g1). Each hub
# lists its main fiber, its own loop fiber ("hub") and its live fibers.
#
# How `grove bt` reaches a parked fiber: a switched-out fiber's stack pointer is saved by
# Boost.Context's jump_fcontext (x86-64 System V), which pushed, from the saved pointer up:
#   +0x00 MXCSR and x87 control word   +0x08 r12   +0x10 r13   +0x18 r14   +0x20 r15
#   +0x28 rbx   +0x30 rbp   +0x38 the return address into the fiber
# and resumes with rsp = saved + 0x40. A core file's registers cannot be written, so instead of
# loading these into the thread, the command enables a frame unwinder for one backtrace: it
# says that the caller of the thread's innermost frame is the fiber's saved state; gdb then
# unwinds the fiber's stack with its ordinary (DWARF) unwinder. The thread's own frame is left
# out of what is printed, and the unwinder is switched off again before the command returns.
import struct

import gdb
import gdb.unwinder

_MAGIC = 0x67726F7665646267  # "grovedbg"
_VERSION = 1
_FIELDS = [
    "magic", "version", "first_hub_address",
    "hub_next", "hub_thread_id", "hub_main", "hub_loop_fiber", "hub_current", "hub_live_head",
    "fiber_id", "fiber_state", "fiber_what", "fiber_name", "fiber_context",
    "fiber_stack_bottom", "fiber_stack_size", "fiber_stack_from_arena", "fiber_next_live",
    "fiber_ran", "fiber_is_actor", "canary_reserve",
    "state_new", "state_ready", "state_running", "state_parked", "state_dead",
]
# jump_fcontext's saved frame (see the header comment): register -> offset from the saved sp.
_SAVED_REGISTERS = {"r12": 0x08, "r13": 0x10, "r14": 0x18, "r15": 0x20, "rbx": 0x28,
                    "rbp": 0x30, "rip": 0x38}
_RESUMED_SP_OFFSET = 0x40
_MAX_FIBERS = 1_000_000  # a bound on list walks, against a damaged list in a core


class GroveError(gdb.GdbError):
    pass


def _inferior():
    inferior = gdb.selected_inferior()
    if inferior is None or inferior.pid == 0 and not inferior.threads():
        raise GroveError("grove: no process or core file is loaded")
    return inferior


def _read(address, size):
    return bytes(_inferior().read_memory(address, size))


def _u64(address):
    return struct.unpack("<Q", _read(address, 8))[0]


def _i64(address):
    return struct.unpack("<q", _read(address, 8))[0]


def _u8(address):
    return _read(address, 1)[0]


def _cstring(address, limit=256):
    if address == 0:
        return None
    out = b""
    while len(out) < limit:
        try:
            chunk = _read(address + len(out), 32)
        except gdb.MemoryError:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            return (out + chunk[:end]).decode("utf-8", "replace")
        out += chunk
    return out[:limit].decode("utf-8", "replace")


class Layout:
    def __init__(self):
        try:
            address = int(gdb.parse_and_eval("(unsigned long)&grove_debug_layout"))
        except gdb.error:
            raise GroveError("grove: this program has no grove hub (no grove_debug_layout symbol)")
        head = struct.unpack("<2Q", _read(address, 16))
        if head[0] != _MAGIC:
            raise GroveError("grove: grove_debug_layout has an unknown magic (damaged memory?)")
        if head[1] != _VERSION:
            raise GroveError(f"grove: grove_debug_layout is version {head[1]}; this script reads "
                             f"version {_VERSION} (use the script of the same grove tree)")
        words = struct.unpack(f"<{len(_FIELDS)}Q", _read(address, 8 * len(_FIELDS)))
        for name, value in zip(_FIELDS, words):
            setattr(self, name, value)
        self.state_names = {self.state_new: "new", self.state_ready: "ready",
                            self.state_running: "running", self.state_parked: "parked",
                            self.state_dead: "dead"}


class Fiber:
    """One fiber as read from memory."""

    def __init__(self, layout, hub, address, role):
        self.address = address
        self.hub = hub
        self.role = role  # "main", "hub" or "fiber"
        self.id = _u64(address + layout.fiber_id)
        self.state_code = _u8(address + layout.fiber_state)
        self.what = _cstring(_u64(address + layout.fiber_what)) or ""
        self.name = _cstring(_u64(address + layout.fiber_name))
        self.context = _u64(address + layout.fiber_context)
        self.stack_bottom = _u64(address + layout.fiber_stack_bottom)
        size = _u64(address + layout.fiber_stack_size)
        if _u8(address + layout.fiber_stack_from_arena):
            size -= layout.canary_reserve
        self.stack_size = size
        self.ran = bool(_u8(address + layout.fiber_ran))
        self.is_actor = bool(_u8(address + layout.fiber_is_actor))
        if not self.name:
            self.name = f"Greenlet-{self.id}" if self.is_actor else f"Fiber-{self.id}"
        if address == hub.current:
            self.state = "running"
        elif self.state_code == layout.state_running:
            self.state = "suspended"  # the hub's loop fiber while a fiber runs
        else:
            self.state = layout.state_names.get(self.state_code, f"?{self.state_code}")

    @property
    def stack_top(self):
        return self.stack_bottom + self.stack_size

    def has_saved_context(self):
        """Whether `context` is a frame saved by jump_fcontext (not a fresh, never-run stack)."""
        if self.state == "running" or self.context == 0:
            return False
        return self.ran or self.role == "main"

    def stack_in_use(self, thread_sp=None):
        """Bytes between the top of the fiber's own stack and its stack pointer, or None."""
        if self.stack_bottom == 0:
            return None  # a thread's own stack: its bounds are not recorded
        sp = thread_sp if self.state == "running" else (
            self.context if self.has_saved_context() else None)
        if sp is None or not self.stack_bottom <= sp <= self.stack_top:
            return None
        return self.stack_top - sp

    def stack_high_water(self):
        """Deepest word ever written on this stack memory (pooled stacks keep earlier use)."""
        if self.stack_bottom == 0 or self.stack_size == 0:
            return None
        try:
            data = _read(self.stack_bottom, self.stack_size)
        except gdb.MemoryError:
            return None
        untouched = len(data) - len(data.lstrip(b"\0"))
        return self.stack_size - (untouched & ~7)


class Hub:
    def __init__(self, layout, address):
        self.address = address
        self.thread_id = _i64(address + layout.hub_thread_id)
        self.main = _u64(address + layout.hub_main)
        self.loop_fiber = _u64(address + layout.hub_loop_fiber)
        self.current = _u64(address + layout.hub_current)
        self.fibers = []
        if self.main:
            self.fibers.append(Fiber(layout, self, self.main, "main"))
        if self.loop_fiber:
            self.fibers.append(Fiber(layout, self, self.loop_fiber, "hub"))
        live = []
        f = _u64(address + layout.hub_live_head)
        while f and len(live) < _MAX_FIBERS:
            live.append(Fiber(layout, self, f, "fiber"))
            f = _u64(f + layout.fiber_next_live)
        live.sort(key=lambda fiber: fiber.id)
        self.fibers.extend(live)

    def gdb_thread(self):
        for thread in _inferior().threads():
            if thread.ptid[1] == self.thread_id:
                return thread
        return None


def read_hubs():
    layout = Layout()
    hubs = []
    address = _u64(layout.first_hub_address)
    while address and len(hubs) < _MAX_FIBERS:
        hubs.append(Hub(layout, address))
        address = _u64(address + layout.hub_next)
    hubs.reverse()  # oldest hub first: the list is pushed at the front
    return hubs


def _thread_sp(thread):
    if thread is None:
        return None
    previous = gdb.selected_thread()
    try:
        thread.switch()
        return int(gdb.newest_frame().read_register("rsp"))
    except gdb.error:
        return None
    finally:
        if previous is not None:
            previous.switch()


def _bytes(n):
    return "-" if n is None else str(n)


class _FiberUnwinder(gdb.unwinder.Unwinder):
    """Says that the innermost frame of one thread was called from a saved fiber context."""

    def __init__(self):
        super().__init__("grove-fiber")
        self.target = None  # (sp, pc) of the thread's innermost frame, saved registers

    def __call__(self, pending_frame):
        if self.target is None:
            return None
        level = getattr(pending_frame, "level", None)
        if level is not None and level() != 0:
            return None
        (sp, pc), registers, frame_sp = self.target
        if (int(pending_frame.read_register("rsp")) != sp
                or int(pending_frame.read_register("rip")) != pc):
            return None
        # The frame's id takes the fiber's stack pointer, so the fiber's frames (wherever its
        # stack lies) are outer to it, as gdb requires of callers.
        word = gdb.lookup_type("unsigned long")
        info = pending_frame.create_unwind_info(
            _FrameId(gdb.Value(frame_sp).cast(word), gdb.Value(pc).cast(word)))
        for name, value in registers.items():
            info.add_saved_register(name, gdb.Value(value).cast(word))
        return info


class _FrameId:
    """What create_unwind_info takes: the frame's stack and code addresses, as gdb.Values."""

    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


_unwinder = _FiberUnwinder()
gdb.unwinder.register_unwinder(None, _unwinder, replace=True)


def _saved_registers(context):
    registers = {name: _u64(context + offset) for name, offset in _SAVED_REGISTERS.items()}
    registers["rsp"] = context + _RESUMED_SP_OFFSET
    return registers


def _drop_first_frame(text):
    """Removes frame #0 (the thread's own) from `bt` output and numbers the rest from 0."""
    out = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("#"):
            number, _, rest = line[1:].partition(" ")
            if number.isdigit():
                skipping = number == "0"
                if not skipping:
                    line = f"#{int(number) - 1:<3}{rest.lstrip()}"
        if not skipping:
            out.append(line)
    return "\n".join(out)


def fiber_backtrace(fiber, arguments=""):
    """The backtrace text of `fiber`."""
    thread = fiber.hub.gdb_thread()
    if fiber.state == "running":
        if thread is None:
            raise GroveError(f"grove: fiber {fiber.id} is running on thread LWP "
                             f"{fiber.hub.thread_id}, which gdb does not know")
        previous = gdb.selected_thread()
        try:
            thread.switch()
            return gdb.execute(f"bt {arguments}", to_string=True)
        finally:
            previous.switch()
    if not fiber.has_saved_context():
        raise GroveError(f"grove: fiber {fiber.id} has not run yet: it has no frames")
    thread = thread or gdb.selected_thread()
    previous = gdb.selected_thread()
    previous_frame = gdb.selected_frame() if previous is not None else None
    try:
        thread.switch()
        newest = gdb.newest_frame()
        innermost = (int(newest.read_register("rsp")), int(newest.read_register("rip")))
        _unwinder.target = (innermost, _saved_registers(fiber.context), fiber.context)
        gdb.invalidate_cached_frames()
        text = gdb.execute(f"bt {arguments}", to_string=True)
    finally:
        _unwinder.target = None
        gdb.invalidate_cached_frames()
        if previous is not None:
            previous.switch()
            if previous_frame is not None and previous_frame.is_valid():
                previous_frame.select()
    return _drop_first_frame(text)


def find_fiber(fiber_id):
    for hub in read_hubs():
        for fiber in hub.fibers:
            if fiber.id == fiber_id:
                return fiber
    return None


class GroveCommand(gdb.Command):
    """Commands for grove's greenlets: grove greenlets, grove bt ID."""

    def __init__(self):
        super().__init__("grove", gdb.COMMAND_USER, prefix=True)


class GreenletsCommand(gdb.Command):
    """List every greenlet (fiber) of every grove hub of the process.

Columns: id, state (running, ready, parked, new; the hub's own fiber is "suspended" while a
fiber runs), what a parked fiber waits on, stack bytes in use now, stack high-water (the deepest
word written on that stack memory, which a pooled stack keeps from earlier fibers), stack size,
and the name (an actor's name, a supervised child's ChildSpec id, "main", "hub", Fiber-<id>)."""

    def __init__(self):
        super().__init__("grove greenlets", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        hubs = read_hubs()
        if not hubs:
            print("grove: no hub in this process")
            return
        for index, hub in enumerate(hubs):
            thread = hub.gdb_thread()
            where = f"gdb thread {thread.num}" if thread is not None else "thread not in gdb"
            print(f"hub {index} at 0x{hub.address:x}: LWP {hub.thread_id} ({where}), "
                  f"{len(hub.fibers)} fibers")
            print(f"  {'ID':>6}  {'STATE':<9}  {'WAITING ON':<20}  {'IN USE':>7}  "
                  f"{'HIGH':>7}  {'SIZE':>7}  NAME")
            sp = _thread_sp(thread)
            for fiber in hub.fibers:
                what = f'"{fiber.what}"' if fiber.state == "parked" else "-"
                print(f"  {fiber.id:>6}  {fiber.state:<9}  {what:<20}  "
                      f"{_bytes(fiber.stack_in_use(sp)):>7}  "
                      f"{_bytes(fiber.stack_high_water()):>7}  "
                      f"{_bytes(fiber.stack_size or None):>7}  {fiber.name}")


class BacktraceCommand(gdb.Command):
    """Print the backtrace of a grove greenlet: grove bt ID [bt options, e.g. full].

A parked or ready fiber is shown where it switched out; the running fiber of a hub is shown
through its thread. The thread's own registers are not changed."""

    def __init__(self):
        super().__init__("grove bt", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        words = argument.split(None, 1)
        if not words or not words[0].isdigit():
            raise GroveError("usage: grove bt ID [full]  (IDs are listed by `grove greenlets`)")
        fiber = find_fiber(int(words[0]))
        if fiber is None:
            raise GroveError(f"grove: no live fiber has id {words[0]}")
        print(f"fiber {fiber.id} \"{fiber.name}\" ({fiber.state}"
              + (f' on "{fiber.what}"' if fiber.state == "parked" else "") + "):")
        print(fiber_backtrace(fiber, words[1] if len(words) > 1 else ""))


GroveCommand()
GreenletsCommand()
BacktraceCommand()
