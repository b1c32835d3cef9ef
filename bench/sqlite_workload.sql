-- bench/sqlite_workload.sql -- workload 9c: the sqlite3 shell, run by the
-- runner under LD_PRELOAD; the runner prepends `.parameter set @rows N`.
-- An in-memory database (page cache, b-tree pages, parse trees and result
-- rows all come from malloc): insert rows with text of varied length, index
-- them, aggregate, update, delete, and print aggregates (the checksum: the
-- same output for every allocator).
PRAGMA cache_size = -200000;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, body TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
INSERT INTO item(grp, name, body)
    SELECT (i * 7919) % 997, printf('item-%08x', (i * 2654435761) % 4294967296),
           substr(hex(zeroblob(1 + (i * 31) % 200)), 1, 2 + (i * 131) % 400)
    FROM n;
CREATE INDEX item_grp ON item(grp, name);
SELECT count(*), sum(length(body)), count(DISTINCT grp) FROM item;
SELECT grp, count(*), max(name), sum(length(body)) FROM item GROUP BY grp ORDER BY 4 DESC LIMIT 5;
UPDATE item SET body = body || name WHERE grp % 3 = 0;
DELETE FROM item WHERE grp % 5 = 1;
SELECT count(*), sum(length(body)), min(name), max(name) FROM item;
SELECT group_concat(name, ',') FROM (SELECT name FROM item ORDER BY body DESC, id LIMIT 20);
