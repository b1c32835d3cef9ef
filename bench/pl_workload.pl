# bench/pl_workload.pl -- a perl program, run under LD_PRELOAD (Debian's perl
# uses the system malloc: every scalar body, string buffer, array and hash
# comes from the allocator under test).
#
# Pattern: a text-processing job as a log analyser or a report generator
# does it: split generated lines into fields, build hashes of arrays and
# hashes of counters, string concatenation and substitutions, sort the keys
# by computed values, then drop the whole structure and do it again; a small
# part of each round is kept. Prints a checksum of everything it computed.
#
# Usage: perl pl_workload.pl [scale]
use strict;
use warnings;

my $scale = @ARGV ? $ARGV[0] : 1.0;
my $n = int(25000 * $scale) || 1;
my $crc = 0;
my @keep;

sub mix { $crc = ($crc * 31 + unpack("%32C*", $_[0])) % 4294967291; }

for my $round (1 .. 5) {
    my (%by_host, %count, @lines);
    for my $i (1 .. $n) {
        my $host = sprintf("host%03d.example", ($i * 7919 + $round) % 997);
        my $path = join("/", "", map { "p" . (($i >> $_) % 13) } 0 .. ($i % 5));
        push @lines, "$host - [$round:$i] \"GET $path HTTP/1.1\" " . (200 + $i % 7) . " " . ($i * 31 % 5000);
    }
    for my $line (@lines) {
        my ($host, undef, $stamp, $method, $path, $proto, $status, $bytes) = split / /, $line;
        $path =~ s{/p(\d+)}{/q$1}g;
        push @{ $by_host{$host} }, { path => $path, status => $status, bytes => $bytes };
        $count{"$status $path"}++;
    }
    for my $host (sort { @{ $by_host{$b} } <=> @{ $by_host{$a} } || $a cmp $b } keys %by_host) {
        my $total = 0;
        $total += $_->{bytes} for @{ $by_host{$host} };
        mix("$host $total " . scalar @{ $by_host{$host} });
    }
    my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 49];
    mix(join(",", map { "$_=$count{$_}" } grep { defined } @top));
    push @keep, [ @lines[ grep { $_ % 50 == 0 } 0 .. $#lines ] ];
}
my $kept = 0;
$kept += length($_) for map { @$_ } @keep;
mix($kept);
printf "checksum: %08x\n", $crc;
