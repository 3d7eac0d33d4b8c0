# Perl's XS modules (each an extension library perl dlopens), exercised; the output must be the
# same whichever loader mapped them.
use strict;
use warnings;
use POSIX qw(floor ceil strftime);
use Storable qw(dclone freeze thaw);
use List::Util qw(sum max first shuffle);
use Digest::MD5 qw(md5_hex);
use Data::Dumper;
use Encode qw(encode decode);

$Data::Dumper::Sortkeys = 1;
print "POSIX: ", floor(2.7), " ", ceil(2.1), " ", strftime("%Y-%m-%d", gmtime(86400 * 365)), "\n";
my $deep = { list => [1, 2, { x => 'y' }], n => 42 };
my $copy = dclone($deep);
print "Storable: ", $copy->{list}[2]{x}, " ", thaw(freeze($deep))->{n}, "\n";
print "List::Util: ", sum(1 .. 100), " ", max(3, 9, 2), " ", first { $_ > 3 } (1 .. 10);
print "\n";
print "Digest::MD5: ", md5_hex("relink"), "\n";
print "Data::Dumper: ", Data::Dumper->new([$deep])->Indent(0)->Dump, "\n";
my $bytes = encode("UTF-8", "caf\x{e9} \x{263a}");
print "Encode: ", length($bytes), " ", decode("UTF-8", $bytes) eq "caf\x{e9} \x{263a}" ? "round trip" : "broken", "\n";
