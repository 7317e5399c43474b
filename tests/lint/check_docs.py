#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The man pages and the bash completion cover what the programs offer.

Asks the programs themselves, not a copy: `nodemeshd --commands` prints
the daemon's command table (the one its `help` answers with; the
config_reload integration test checks the two agree), `nodemeshd --help`
and `nodemeshctl --help` their options. Then checks that
  - every command appears in nodemeshctl(8) as *WORDS* at the start of an
    entry, and its words in the bash completion;
  - every option of nodemeshd --help appears in nodemeshd(8), every
    option of nodemeshctl --help in nodemeshctl(8), every option of
    nm-replay --help in nm-replay(1);
  - every config setting ctrl/config_diff.c knows appears in
    nodemesh.conf(5).
Prints each miss and exits 1 if there is any."""
import re
import subprocess
import sys

nodemeshd, nodemeshctl, src, nm_replay = sys.argv[1:5]
missing = []


def read(path):
    with open(path) as f:
        return f.read()


def unescape(scd):
    # scdoc escapes: \_ \* in the source stand for _ and *.
    return scd.replace("\\_", "_").replace("\\*", "*")


def options(help_text):
    """-x and --long-name tokens of the option lines of a --help text."""
    found = set()
    for line in help_text.splitlines():
        if re.match(r"\s+-", line):
            spec = re.split(r"\s{2,}", line.strip())[0]  # "-c, --config FILE", not the description
            found.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", spec))
    return sorted(found)


ctl_page = unescape(read(src + "/ctrl/man/nodemeshctl.8.scd"))
d_page = unescape(read(src + "/ctrl/man/nodemeshd.8.scd"))
replay_page = unescape(read(src + "/ctrl/man/nm-replay.1.scd"))
conf_page = unescape(read(src + "/ctrl/man/nodemesh.conf.5.scd"))
completion = read(src + "/conf/nodemeshctl.bash")

table = subprocess.run([nodemeshd, "--commands"], check=True, capture_output=True, text=True).stdout
commands = []
for line in table.splitlines():
    usage = line.split("\t")[0]
    words = []
    for w in usage.split():
        if not re.fullmatch(r"[a-z]+", w):
            break
        words.append(w)
        if len(words) == 2:
            break
    commands.append(" ".join(words))
if len(commands) < 20:
    sys.exit("nodemeshd --commands printed %d commands; expected the whole table" % len(commands))
for cmd in commands:
    if not re.search(r"^\*" + re.escape(cmd) + r"\*", ctl_page, re.M):
        missing.append("nodemeshctl(8) has no entry for command '%s'" % cmd)
    for w in cmd.split():
        if not re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", completion):
            missing.append("bash completion lacks '%s' (of '%s')" % (w, cmd))

for prog, page, name in ((nodemeshd, d_page, "nodemeshd(8)"), (nodemeshctl, ctl_page, "nodemeshctl(8)"),
                         (nm_replay, replay_page, "nm-replay(1)")):
    text = subprocess.run([prog, "--help"], check=True, capture_output=True, text=True).stdout
    opts = options(text)
    if len(opts) < 4:
        sys.exit("%s --help: found only %s; the option parser here is wrong" % (prog, opts))
    print("%s --help: %s" % (name.split("(")[0], " ".join(opts)))
    for o in opts:
        if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", page):
            missing.append("%s does not mention option %s" % (name, o))

diff = read(src + "/ctrl/config_diff.c")
settings = re.findall(r'^\s+S\("([a-z_.]+)"', diff, re.M)
settings += ["conntrack.timeouts." + n for n in re.findall(r'TIMEOUT\("([a-z_]+)"', diff)]
settings += ["tunnel." + n for n in re.findall(r'TUNNEL\("([a-z_]+)"', diff)]
if len(settings) < 40:
    sys.exit("found only %d settings in ctrl/config_diff.c" % len(settings))
for s in sorted(set(settings)):
    last = s.split(".")[-1]
    # Grouped entries name the first setting in full and the rest by their last part.
    if s not in conf_page and not (s.startswith("conntrack.timeouts.") and "*" + last + "*" in conf_page):
        missing.append("nodemesh.conf(5) does not mention setting %s" % s)

for m in missing:
    print("missing:", m)
print("%d commands, %d settings checked; %d missing" % (len(commands), len(set(settings)), len(missing)))
sys.exit(1 if missing else 0)
