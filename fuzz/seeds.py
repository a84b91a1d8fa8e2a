#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz corpus: Wayland streams of what real clients do, in the
`porthole::fuzzing::wayland` format (a header byte, then the client's bytes), control lines and
configuration files. Run from the repository root: python3 fuzz/seeds.py"""

import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent
CORPUS = ROOT / "corpus"

# Global names as the in-process compositor numbers them (wayland-info lists them).
COMPOSITOR, SUBCOMPOSITOR, XDG_WM_BASE, SHM = 1, 2, 5, 7
# Replaced by the compositor's last serial before the message holding it is sent.
SERIAL = 0xFEEDC0DE
VIEWPORTER, SINGLE_PIXEL, SEAT = 11, 12, 23


class Stream:
    def __init__(self):
        self.data = b""
        self.next_id = 2

    def new_id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def msg(self, obj, opcode, *args):
        body = b""
        for a in args:
            if isinstance(a, str):
                raw = a.encode() + b"\0"
                raw += b"\0" * (-len(raw) % 4)
                body += struct.pack("<I", len(a) + 1) + raw
            else:
                body += struct.pack("<i" if a < 0 else "<I", a)
        self.data += struct.pack("<II", obj, ((8 + len(body)) << 16) | opcode) + body

    def bind(self, name, interface, version):
        registry = getattr(self, "registry", None)
        if registry is None:
            registry = self.registry = self.new_id()
            self.msg(1, 1, registry)  # wl_display.get_registry
        i = self.new_id()
        self.msg(registry, 0, name, interface, version, i)
        return i


def toplevel(s, title="fuzz"):
    comp = s.bind(COMPOSITOR, "wl_compositor", 4)
    wm = s.bind(XDG_WM_BASE, "xdg_wm_base", 2)
    surface = s.new_id()
    s.msg(comp, 0, surface)  # create_surface
    xdg = s.new_id()
    s.msg(wm, 2, xdg, surface)  # get_xdg_surface
    top = s.new_id()
    s.msg(xdg, 1, top)  # get_toplevel
    s.msg(top, 2, title)  # set_title
    s.msg(top, 3, "org.porthole.fuzz")  # set_app_id
    s.msg(surface, 6)  # commit
    s.msg(xdg, 4, SERIAL)  # ack_configure
    return comp, wm, surface, xdg, top


def shm_buffer(s, w=64, h=64):
    shm = s.bind(SHM, "wl_shm", 1)
    pool = s.new_id()
    s.msg(shm, 0, pool, 65536)  # create_pool (the fd rides along)
    buf = s.new_id()
    s.msg(pool, 0, buf, 0, w, h, w * 4, 1)  # create_buffer xrgb8888
    return pool, buf


def shm_window():
    s = Stream()
    _, _, surface, _, _ = toplevel(s)
    _, buf = shm_buffer(s)
    s.msg(surface, 1, buf, 0, 0)  # attach
    s.msg(surface, 9, 0, 0, 64, 64)  # damage_buffer
    s.msg(surface, 3, s.new_id())  # frame
    s.msg(surface, 6)  # commit
    return 1, s


def subsurfaces():
    s = Stream()
    comp, _, surface, _, _ = toplevel(s)
    sub = s.bind(SUBCOMPOSITOR, "wl_subcompositor", 1)
    pool, buf = shm_buffer(s, 32, 32)
    children = []
    parent = surface
    for _ in range(3):
        child = s.new_id()
        s.msg(comp, 0, child)
        role = s.new_id()
        s.msg(sub, 1, role, child, parent)  # get_subsurface
        s.msg(role, 1, 8, 8)  # set_position
        s.msg(role, 5)  # set_desync
        s.msg(child, 1, buf, 0, 0)
        s.msg(child, 6)
        children.append((child, role))
        parent = child
    s.msg(children[0][1], 2, surface)  # place_above
    s.msg(surface, 6)
    s.msg(children[1][0], 0)  # destroy a middle surface before its role
    s.msg(surface, 6)
    return 1, s


def popup():
    s = Stream()
    _, wm, surface, xdg, _ = toplevel(s)
    comp = s.bind(COMPOSITOR, "wl_compositor", 4)
    pos = s.new_id()
    s.msg(wm, 1, pos)  # create_positioner
    s.msg(pos, 1, 100, 50)  # set_size
    s.msg(pos, 2, 10, 10, 20, 20)  # set_anchor_rect
    s.msg(pos, 3, 4)  # set_anchor
    s.msg(pos, 4, 4)  # set_gravity
    s.msg(pos, 5, 63)  # set_constraint_adjustment
    psurf = s.new_id()
    s.msg(comp, 0, psurf)
    pxdg = s.new_id()
    s.msg(wm, 2, pxdg, psurf)
    p = s.new_id()
    s.msg(pxdg, 2, p, xdg, pos)  # get_popup
    s.msg(psurf, 6)
    s.msg(xdg, 0)  # destroy the parent's xdg_surface first: a protocol error
    return 0, s


def single_pixel_and_viewport():
    s = Stream()
    _, _, surface, _, top = toplevel(s)
    spb = s.bind(SINGLE_PIXEL, "wp_single_pixel_buffer_manager_v1", 1)
    vp = s.bind(VIEWPORTER, "wp_viewporter", 1)
    buf = s.new_id()
    s.msg(spb, 1, buf, 0xFFFFFFFF, 0, 0, 0xFFFFFFFF)  # create_u32_rgba_buffer
    view = s.new_id()
    s.msg(vp, 1, view, surface)  # get_viewport
    s.msg(view, 2, 300, 200)  # set_destination
    s.msg(surface, 1, buf, 0, 0)
    s.msg(surface, 9, 0, 0, 1, 1)
    s.msg(surface, 6)
    s.msg(top, 9)  # set_maximized
    s.msg(top, 11, 0)  # set_fullscreen, no output
    s.msg(top, 13)  # set_minimized
    return 0, s


def seat():
    s = Stream()
    _, _, surface, _, _ = toplevel(s)
    seat = s.bind(SEAT, "wl_seat", 7)
    ptr = s.new_id()
    s.msg(seat, 0, ptr)  # get_pointer
    kbd = s.new_id()
    s.msg(seat, 1, kbd)  # get_keyboard
    s.msg(ptr, 0, 0, surface, 0, 0)  # set_cursor with a surface that has a role
    s.msg(ptr, 1)  # release
    return 0, s


def main():
    seeds = {
        "shm-window": shm_window,
        "subsurfaces": subsurfaces,
        "popup": popup,
        "single-pixel": single_pixel_and_viewport,
        "seat": seat,
    }
    for name, make in seeds.items():
        fds, s = make()
        for container in (0, 8):
            out = CORPUS / "wayland" / f"seed-{name}{'-container' if container else ''}"
            out.write_bytes(bytes([fds | container]) + s.data)

    control = {
        "windows": '{"version":1,"command":"windows"}',
        "outputs": '{"version":1,"command":"outputs"}',
        "containers": '{"version":1,"command":"containers"}',
        "add-remove": '{"version":1,"command":"container_add","name":"c1","color":"#aabbcc"}\n'
        '{"version":1,"command":"container_remove","name":"c1"}',
        "screenshot": '{"version":1,"command":"screenshot","container":"host"}',
        "input": '{"version":1,"command":"input","input":{"type":"key","combo":"super+shift+q"}}\n'
        '{"version":1,"command":"input","input":{"type":"pointer_move","x":1e308,"y":-1e308}}\n'
        '{"version":1,"command":"input","input":{"type":"type","text":"h\u00e9llo"}}',
        "window": '{"version":1,"command":"window","action":"close","id":18446744073709551615}',
        "clipboard": '{"version":1,"command":"clipboard_copy","from":"host","to":"fuzz"}',
        "bad-version": '{"version":99,"command":"windows"}',
    }
    for name, text in control.items():
        (CORPUS / "control" / f"seed-{name}").write_text(text + "\n")

    for config in sorted((ROOT.parent / "configs").glob("*.toml")):
        shutil.copy(config, CORPUS / "config" / f"seed-{config.stem}")


if __name__ == "__main__":
    main()
