#!/usr/bin/python3
"""A GTK 3 app for the tests: a window titled "notes" holding a text view, for text typed into
it. Five times a second it writes what the view holds to /tmp/notes.txt; when asked to close
(the close request of its toplevel, as a window manager sends it) it writes /tmp/close-requested
and quits. Its pid goes to /tmp/notes.pid."""
import os

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def write(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def dump(view):
    buf = view.get_buffer()
    write("/tmp/notes.txt", buf.get_text(buf.get_start_iter(), buf.get_end_iter(), True))
    return GLib.SOURCE_CONTINUE


def close_requested(*_):
    write("/tmp/close-requested", "yes\n")
    Gtk.main_quit()
    return False


write("/tmp/notes.pid", f"{os.getpid()}\n")
window = Gtk.Window(title="notes")
window.set_default_size(360, 240)
view = Gtk.TextView()
window.add(view)
window.connect("delete-event", close_requested)
GLib.timeout_add(200, dump, view)
window.show_all()
Gtk.main()
