#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Read the output of "virsh domxml-to-native qemu-argv" (shell words, leading
# VAR=value environment assignments) and either
#   argv.py options FILE   print one line per option: "-opt value", JSON
#                          values re-serialised compactly with sorted keys,
#                          so a shell test can grep for '"driver":"nvdimm"'
#   argv.py env FILE       print the environment assignments, NUL-separated
#   argv.py argv FILE      print the command (binary and arguments),
#                          NUL-separated, for bash's mapfile -d ''
import json
import re
import shlex
import sys


def split(path):
    words = shlex.split(open(path).read())
    env = []
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        env.append(words.pop(0))
    return env, words


def norm(value):
    if value.startswith("{"):
        try:
            return json.dumps(json.loads(value), sort_keys=True,
                              separators=(",", ":"))
        except ValueError:
            pass
    return value


def main(argv):
    if len(argv) != 3 or argv[1] not in ("options", "env", "argv"):
        sys.stderr.write("usage: argv.py options|env|argv FILE\n")
        return 2
    env, words = split(argv[2])
    if argv[1] == "env":
        sys.stdout.write("".join(w + "\0" for w in env))
    elif argv[1] == "argv":
        sys.stdout.write("".join(w + "\0" for w in words))
    else:
        i = 1
        while i < len(words):
            opt = words[i]
            if i + 1 < len(words) and not words[i + 1].startswith("-"):
                print(opt, norm(words[i + 1]))
                i += 2
            else:
                print(opt)
                i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
