"""Trim what the app never imports from Pyodide's standard library and from numpy's wheel.

A visitor's first load is mostly the interpreter, python_stdlib.zip and numpy; the app uses a
small part of the last two. Both archives are rewritten without the parts below and with their
members *stored* (not deflated): the site then gzips each archive whole, which compresses the
many small sources far better than deflating them one by one.

Everything dropped here is either developer tooling (REPLs, debuggers, test frameworks, docs)
or a library the page cannot reach (other encodings, mail, XML, multiprocessing). The
browser tests boot, train and sample with the trimmed files, so a wrong cut fails them.
"""
import io
import zipfile

# Top-level names in python_stdlib.zip the app, PyScript, Pyodide and numpy never import.
STDLIB_DROPPED = {
    "_pyrepl", "pydoc.py", "pydoc_data", "pdb.py", "bdb.py", "doctest.py", "unittest", "trace.py",
    "profile.py", "cProfile.py", "pstats.py", "timeit.py", "tabnanny.py", "pyclbr.py", "modulefinder.py",
    "compileall.py", "zipapp.py", "symtable.py", "pickletools.py", "_pyio.py", "idlelib", "tkinter",
    "turtle.py", "turtledemo", "lib2to3", "ensurepip", "venv", "multiprocessing", "xml", "xmlrpc",
    "wsgiref", "socketserver.py", "mailbox.py", "smtplib.py", "imaplib.py", "poplib.py", "ftplib.py",
    "netrc.py", "difflib.py", "optparse.py", "csv.py", "wave.py", "plistlib.py", "zoneinfo", "shelve.py",
    "fileinput.py", "cmd.py", "sched.py", "getpass.py", "pty.py", "tty.py", "webbrowser.py",
    "colorsys.py", "this.py", "antigravity.py", "__hello__.py", "__phello__",
}
# Of encodings/, only the codecs a web page meets, what the interpreter needs to start, and
# cp437 (zipfile decodes member names with it while unpacking wheels).
ENCODINGS_KEPT = {
    "__init__", "aliases", "ascii", "latin_1", "utf_8", "utf_8_sig", "utf_16", "utf_16_le",
    "utf_16_be", "utf_32", "utf_32_le", "utf_32_be", "idna", "punycode", "raw_unicode_escape",
    "unicode_escape", "charmap", "cp437", "cp1252", "iso8859_1", "base64_codec", "hex_codec", "zlib_codec",
}
# numpy subpackages that numpy imports lazily and the app never touches, plus type stubs.
NUMPY_DROPPED = ("numpy/f2py/", "numpy/polynomial/", "numpy/fft/", "numpy/ma/", "numpy/testing/",
                 "numpy/typing/", "numpy/_pyinstaller/", "numpy/doc/", "numpy/matlib.py")


def stdlib_keeps(name):
    top = name.split("/")[0]
    if top in STDLIB_DROPPED:
        return False
    if top == "encodings" and "/" in name:
        module = name.split("/")[1].removesuffix(".py")
        return module in ENCODINGS_KEPT or module == ""
    return True


def numpy_keeps(name):
    return not name.startswith(NUMPY_DROPPED) and not name.endswith(".pyi")


def rewrite(data, keeps):
    """The zip archive `data` with only the members keeps(name) accepts, stored uncompressed.

    Upstream python_stdlib.zip carries a member whose CRC does not match (zipimport never
    checks), so members are read raw rather than through zipfile's CRC check."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            if not keeps(info.filename):
                continue
            with source.open(info) as member:
                member._expected_crc = None          # see the docstring
                content = member.read()
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.external_attr = info.external_attr
            target.writestr(copy, content, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def trim_stdlib(data):
    return rewrite(data, stdlib_keeps)


def trim_numpy_wheel(data):
    """The wheel without NUMPY_DROPPED; its RECORD still lists them, which only pip reads."""
    return rewrite(data, numpy_keeps)
