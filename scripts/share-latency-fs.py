#!/usr/bin/env python3
"""A read-only FUSE passthrough that behaves like a network share (issue 25).

    scripts/share-latency-fs.py SOURCE MOUNTPOINT [--delay-ms 1] [--mbps 110]
                                [--cache 1.0] [--stats FILE]

Every metadata operation that an SMB or NFS client sends to its server
(lookup, getattr, opendir, readdir, open) waits DELAY ms before it is
answered, reads share one link capped at MBPS megabytes per second, and the
client may keep names and attributes for CACHE seconds (1 s by default:
libfuse's default and close to CIFS's). Each kind of operation is counted;
the counts are written as JSON to FILE (else stderr) when the file system
is unmounted (`fusermount3 -u MOUNTPOINT`), so that a benchmark can report
round trips per file. Runs in the foreground until unmounted.

Needs Debian's fuse3 and libfuse3-dev and pyfuse3 from PyPI
(scripts/bench-share installs them).
"""
import argparse
import collections
import errno
import json
import os
import sys

import pyfuse3
import trio

# The operations that cost a round trip to the file server on a real share.
METADATA = ("lookup", "getattr", "opendir", "readdir", "open")


class LatencyFS(pyfuse3.Operations):
    def __init__(self, source, delay, bandwidth, cache):
        super().__init__()
        self.delay = delay
        self.bandwidth = bandwidth
        self.cache = cache
        self.counts = collections.Counter()
        self.read_bytes = 0
        # The source's inode numbers, stable from one mount to the next like
        # a file server's file ids (a rescan may compare them), with the root
        # as FUSE wants it.
        self.root = os.fsencode(os.path.abspath(source))
        self.paths = {pyfuse3.ROOT_INODE: self.root}
        self.dirs = {}
        self.next_dir = 1
        # The link is free again at this trio clock time: reads queue on it,
        # as they do on one TCP connection to one server.
        self.link_free = 0.0

    async def round_trip(self, op):
        self.counts[op] += 1
        if self.delay > 0:
            await trio.sleep(self.delay)

    def inode_of(self, path, st):
        if path == self.root:
            return pyfuse3.ROOT_INODE
        # ext4 and XFS never give a file inode 1; elsewhere, move it aside.
        ino = st.st_ino if st.st_ino != pyfuse3.ROOT_INODE else 1 << 62
        self.paths[ino] = path
        return ino

    def path_of(self, ino):
        try:
            return self.paths[ino]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ESTALE)

    def attributes(self, path):
        try:
            st = os.lstat(path)
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = self.inode_of(path, st)
        entry.generation = 0
        entry.entry_timeout = self.cache
        entry.attr_timeout = self.cache
        # Read-only: the benchmark must never change the tree it measures.
        entry.st_mode = st.st_mode & ~0o222
        entry.st_nlink = st.st_nlink
        entry.st_uid = st.st_uid
        entry.st_gid = st.st_gid
        entry.st_rdev = st.st_rdev
        entry.st_size = st.st_size
        entry.st_blksize = st.st_blksize
        entry.st_blocks = st.st_blocks
        entry.st_atime_ns = st.st_atime_ns
        entry.st_mtime_ns = st.st_mtime_ns
        entry.st_ctime_ns = st.st_ctime_ns
        return entry

    async def lookup(self, parent_inode, name, ctx=None):
        await self.round_trip("lookup")
        parent = self.path_of(parent_inode)
        if name == b".":
            path = parent
        elif name == b"..":
            path = os.path.dirname(parent) if parent_inode != pyfuse3.ROOT_INODE else parent
        else:
            path = os.path.join(parent, name)
        return self.attributes(path)

    async def getattr(self, inode, ctx=None):
        await self.round_trip("getattr")
        return self.attributes(self.path_of(inode))

    async def forget(self, inode_list):
        # Inodes are kept for the life of the mount (a benchmark tree is
        # small): a forgotten one that comes back gets the same number.
        pass

    async def readlink(self, inode, ctx):
        await self.round_trip("readlink")
        try:
            return os.readlink(self.path_of(inode))
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)

    async def opendir(self, inode, ctx):
        await self.round_trip("opendir")
        path = self.path_of(inode)
        try:
            names = sorted(e.name for e in os.scandir(path))
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)
        fh = self.next_dir
        self.next_dir += 1
        self.dirs[fh] = (path, names)
        return fh

    async def readdir(self, fh, start_id, token):
        # One call is one reply buffer of entries (readdirplus: names with
        # their attributes), one round trip, like one SMB QUERY_DIRECTORY.
        await self.round_trip("readdir")
        path, names = self.dirs[fh]
        for i in range(start_id, len(names)):
            try:
                entry = self.attributes(os.path.join(path, os.fsencode(names[i])))
            except pyfuse3.FUSEError:
                continue  # gone since opendir
            if not pyfuse3.readdir_reply(token, os.fsencode(names[i]), entry, i + 1):
                break

    async def releasedir(self, fh):
        self.counts["releasedir"] += 1
        self.dirs.pop(fh, None)

    async def open(self, inode, flags, ctx):
        await self.round_trip("open")
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT):
            raise pyfuse3.FUSEError(errno.EROFS)
        try:
            fd = os.open(self.path_of(inode), os.O_RDONLY)
        except OSError as e:
            raise pyfuse3.FUSEError(e.errno)
        return pyfuse3.FileInfo(fh=fd)

    async def read(self, fh, off, size):
        self.counts["read"] += 1
        data = os.pread(fh, size, off)
        self.read_bytes += len(data)
        if self.bandwidth > 0:
            now = trio.current_time()
            self.link_free = max(self.link_free, now) + len(data) / self.bandwidth
            await trio.sleep_until(self.link_free)
        return data

    async def release(self, fh):
        self.counts["release"] += 1
        os.close(fh)

    async def statfs(self, ctx):
        self.counts["statfs"] += 1
        st = os.statvfs(self.paths[pyfuse3.ROOT_INODE])
        out = pyfuse3.StatvfsData()
        for attr in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_favail", "f_namemax"):
            setattr(out, attr, getattr(st, attr))
        return out

    def report(self):
        counts = dict(sorted(self.counts.items()))
        counts["metadata"] = sum(self.counts[op] for op in METADATA)
        counts["read_bytes"] = self.read_bytes
        return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("mountpoint")
    parser.add_argument("--delay-ms", type=float, default=1.0, help="added to each metadata operation (default 1)")
    parser.add_argument("--mbps", type=float, default=110.0, help="read bandwidth cap in MB/s, 0 for none (default 110)")
    parser.add_argument("--cache", type=float, default=1.0, help="seconds the kernel may keep names and attributes (default 1)")
    parser.add_argument("--stats", help="JSON file the operation counts are written to at unmount (default stderr)")
    parser.add_argument("--max-tasks", type=int, default=64, help="requests served at once (default 64)")
    args = parser.parse_args()
    if not os.path.isdir(args.source):
        parser.error(f"{args.source} is not a folder")

    fs = LatencyFS(args.source, args.delay_ms / 1000, args.mbps * 1e6, args.cache)
    options = set(pyfuse3.default_options)
    options.add("fsname=share-latency-fs")
    options.add("ro")
    pyfuse3.init(fs, args.mountpoint, options)
    try:
        trio.run(pyfuse3.main, 1, args.max_tasks)
    finally:
        # Returns once the mount point is unmounted (fusermount3 -u); the
        # counts are complete then.
        pyfuse3.close(unmount=False)
        text = json.dumps(fs.report(), indent=1) + "\n"
        if args.stats:
            with open(args.stats, "w") as f:
                f.write(text)
        else:
            sys.stderr.write(text)


if __name__ == "__main__":
    main()
