#!/usr/bin/env python3
"""Writes profiled(1), gzipped, from the built binary's own help texts.

Runs `profiled --help`, then `profiled COMMAND --help` for each command the top-level help lists, and
`profiled COMMAND ACTION --help` for each action a command's usage line names (`keys create|list|revoke`), so
a new command or flag reaches the man page without touching this script. The texts go in as they are, in
no-fill blocks; the PROFILED_* variables they name are gathered under ENVIRONMENT.

Usage: man_page.py PROFILED_BINARY OUTPUT.gz
"""
import gzip
import re
import subprocess
import sys


def help_text(binary, *args):
    """The help a command prints on stdout."""
    return subprocess.run([binary, *args, "--help"], check=True, capture_output=True, text=True).stdout


def roff_block(text):
    """Text as a no-fill roff block: backslashes, leading dots/quotes and minus signs escaped."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return ".nf\n" + "\n".join(lines) + "\n.fi\n"


def commands_of(top_help):
    """The command names under the top-level help's Commands: heading."""
    names, inside = [], False
    for line in top_help.split("\n"):
        if line.startswith("Commands:"):
            inside = True
        elif inside and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
        elif inside and line.strip():
            break
    return names


def actions_of(command, command_help):
    """The actions a command's usage line names, as in `Usage: profiled keys create|list|revoke`."""
    match = re.search(r"Usage: profiled " + re.escape(command) + r" ([a-z]+(?:\|[a-z]+)+)", command_help)
    return match.group(1).split("|") if match else []


def main():
    binary, output = sys.argv[1], sys.argv[2]
    version_lines = subprocess.run([binary, "version"], check=True, capture_output=True, text=True).stdout.split("\n")
    version = version_lines[0].split()[1]
    date = next((l.split()[1] for l in version_lines if l.startswith("built ")), "")
    top = subprocess.run([binary, "--help"], check=True, capture_output=True, text=True).stdout
    sections = []
    texts = [top]
    for command in commands_of(top):
        if command in ("version", "help"):
            continue
        text = help_text(binary, command)
        texts.append(text)
        sections.append(f'.SS "profiled {command}"\n' + roff_block(text))
        for action in actions_of(command, text):
            sub = help_text(binary, command, action)
            texts.append(sub)
            sections.append(f'.SS "profiled {command} {action}"\n' + roff_block(sub))
    variables = sorted(set(re.findall(r"PROFILED_[A-Z_]+[A-Z]", "\n".join(texts))))
    page = [
        f'.TH PROFILED 1 "{date}" "profiled {version}" "User Commands"',
        ".SH NAME",
        "profiled \\- self\\-hosted user\\-profile ingestion daemon",
        ".SH SYNOPSIS",
        ".B profiled",
        ".I COMMAND",
        "[\\fIoptions\\fR]",
        ".SH DESCRIPTION",
        "profiled receives user and company profiles over HTTP, one at a time or as bulk uploads processed as",
        "jobs at a controlled rate, stores them durably in SQLite (or a PostgreSQL database several daemons",
        "share) and serves them back. It runs as the systemd service profiled.service.",
        ".PP",
        "This page gathers the help each command prints with \\fB\\-\\-help\\fR.",
        ".PP",
        roff_block(top).rstrip("\n"),
        ".SH COMMANDS",
        "".join(sections).rstrip("\n"),
        ".SH ENVIRONMENT",
        "Each variable stands in for the flag of the same name; a flag given on the command line wins.",
    ]
    for name in variables:
        page += [".TP", f".B {name}", "See the commands above that name it."]
    page += [
        ".SH FILES",
        ".TP",
        ".I /etc/profiled/profiled.conf",
        "settings of the service, read with \\fB\\-\\-config\\fR",
        ".TP",
        ".I /var/lib/profiled",
        "the data directory: profiled.db and spool/",
        ".SH SEE ALSO",
        "/usr/share/doc/profiled/README.md",
    ]
    with open(output, "wb") as raw:
        # mtime 0 and no file name: the same page for the same help texts (reproducible, as gzip -9n).
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as out:
            out.write(("\n".join(page) + "\n").encode())


if __name__ == "__main__":
    main()
