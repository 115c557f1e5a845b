#!/usr/bin/env bash
# start-clamd.sh DIR PORT [STREAM_MAX_LENGTH] — a private clamd listening on 127.0.0.1:PORT and on the
# Unix socket DIR/clamd.sock, with a signature database written here (freshclam cannot reach its
# mirror from test machines, and the tests need to know exactly what is flagged). STREAM_MAX_LENGTH
# (clamd's size syntax, e.g. 1M; default 100M) is the most INSTREAM reads of one file. Prints
# "READY <pid>" once clamd accepts connections; stop it with kill -KILL <pid> (it runs in the
# foreground, in the caller's process group). Needs Debian's clamav-daemon
# (test/support/install-test-servers.sh installs it).
set -euo pipefail
dir=$1 port=$2 stream_max_length=${3:-100M}
command -v clamd >/dev/null || { echo "clamd is not installed: run bash test/support/install-test-servers.sh (Debian: apt-get install clamav-daemon)" >&2; exit 1; }
mkdir -p "$dir/db" "$dir/tmp"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# .ndb: Name:TargetType:Offset:HexSignature. Target 0 = any file, offset * = anywhere in it, so EICAR is
# found inside a PDF, after a JPEG's data, in the middle of random bytes. ClamAV appends .UNOFFICIAL.
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf 'Test.EICAR.Anywhere:0:*:%s\n' "$(hex "$eicar")" > "$dir/db/test.ndb"

# .ldb: Name;TargetDescription;LogicalExpression;Subsig0;Subsig1;... A macro that starts a program when
# the document opens: "Sub AutoOpen" (Word), "Sub Auto_Open" or "Sub Workbook_Open" (Excel), with
# "Shell" (::i: case-insensitive, as VBA is). Target 0 looks everywhere, the macro source clamd extracts
# from a VBA project included: a test signature, not a precise one. Real signatures take precedence over
# the ContainsMacros heuristic below, so a document carrying such a macro is reported under this name,
# one with any other macro as Heuristics.OLE2.ContainsMacros.VBA.
printf 'Test.Macro.AutoOpenShell;Engine:51-255,Target:0;(0|1|2)&3;%s::i;%s::i;%s::i;%s::i\n' \
  "$(hex 'Sub AutoOpen')" "$(hex 'Sub Auto_Open')" "$(hex 'Sub Workbook_Open')" "$(hex 'Shell ')" > "$dir/db/test.ldb"

# User root: without it a clamd started by root keeps running as root anyway, but says so; with it,
# nothing tries to switch to the clamav user, who could not read this root-owned directory.
cat > "$dir/clamd.conf" <<CONF
DatabaseDirectory $dir/db
TemporaryDirectory $dir/tmp
TCPSocket $port
TCPAddr 127.0.0.1
LocalSocket $dir/clamd.sock
LocalSocketMode 600
Foreground yes
LogFile $dir/clamd.log
LogTime yes
$( [[ $(id -u) -eq 0 ]] && echo 'User root' )
StreamMaxLength $stream_max_length
MaxFileSize $stream_max_length
MaxScanSize $stream_max_length
AlertOLE2Macros yes
SelfCheck 0
CONF

clamd -c "$dir/clamd.conf" >"$dir/out.log" 2>&1 </dev/null &
pid=$!
# Ready when it answers PING on the port (a port someone else took would make clamd go on with the
# Unix socket alone: its ERROR line fails the start at once, so the caller can retry elsewhere).
ping_tcp() { (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'zPING\0' >&3 && IFS= read -r -t 2 -d '' reply <&3 && printf '%s' "$reply") 2>/dev/null || true; }
fail() { echo "$1" >&2; { grep 'ERROR:' "$dir/clamd.log"; tail -5 "$dir/clamd.log"; } >&2 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; exit 1; }
for _ in $(seq 1 600); do
  grep -q 'ERROR:' "$dir/clamd.log" 2>/dev/null && fail "clamd reported an error:"
  kill -0 "$pid" 2>/dev/null || fail "clamd exited:"
  if [[ -S "$dir/clamd.sock" && $(ping_tcp) == PONG ]]; then echo "READY $pid"; exit 0; fi
  sleep 0.05
done
fail "clamd did not answer PING on port $port within 30 s:"
