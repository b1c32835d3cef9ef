# bench/rb_workload.rb -- a ruby program, run under LD_PRELOAD (Debian's ruby
# uses the system malloc). Ruby keeps its object slots in heap pages of its
# own; what it mallocs are the bodies that do not fit a slot: strings over
# 23 bytes, arrays over 3 elements, hashes over 8 pairs, and its GC frees
# them when it sweeps their objects -- the churn this workload makes.
#
# Pattern: an in-memory inventory as a web application keeps one: records
# as hashes with string and array fields, string building and formatting,
# grouping into hashes of arrays, sorting, then most of it dropped and
# rebuilt, a few times; a small part of each round is kept. Prints a
# checksum of everything it computed (the same for every allocator).
#
# Usage: ruby rb_workload.rb [scale]
require "zlib"

scale = ARGV.empty? ? 1.0 : ARGV[0].to_f
n = [(30000 * scale).to_i, 1].max
crc = 0
keep = []

6.times do |round|
  records = Array.new(n) do |i|
    {
      "sku" => format("sku-%06d-%04x-round-%d", i, (i * 2654435761) % 65536, round),
      "name" => "item #{i} of batch #{round} " + ("x" * (i % 40)),
      "tags" => ["t#{i % 3}", "t#{i % 5}", "t#{i % 7}", "size-#{i % 11}"],
      "stock" => (i * 7919 + round) % 1000,
      "history" => Array.new(4 + i % 9) { |k| (i * k + round) % 97 },
    }
  end
  by_tag = Hash.new { |h, k| h[k] = [] }
  records.each do |rec|
    rec["tags"].each { |t| by_tag[t] << rec["stock"] }
    rec["label"] = rec["name"].upcase.sub(/ITEM (\d+)/) { "#{$1.reverse}-ITEM" }
  end
  by_tag.keys.sort.each do |t|
    stock = by_tag[t].sort
    crc = Zlib.crc32("#{t} #{stock.size} #{stock[stock.size / 2]}", crc)
  end
  lines = records.map { |rec| [rec["sku"], rec["label"], rec["history"].sum].join(";") }
  crc = Zlib.crc32(lines.sort.first(100).join("\n"), crc)
  # A tenth of each round lives on: long-lived growth next to churn.
  keep << records.select { |rec| rec["stock"] % 10 == 0 }.map { |rec| rec["sku"] }
end
crc = Zlib.crc32(keep.sum { |k| k.sum(&:size) }.to_s, crc)
printf("checksum: %08x\n", crc)
