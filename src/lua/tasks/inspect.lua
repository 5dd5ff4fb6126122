--[[ tasks/inspect — read one task, or the group's counts, in one consistent snapshot.
KEYS[1] task  KEYS[2] parts  KEYS[3] open  KEYS[4] closed  KEYS[5] released  KEYS[6] processing
KEYS[7] failed  KEYS[8] stats  KEYS[9] part_deadlines
ARGV[1] what: 'task', 'stats' or 'in-flight'  ARGV[2] ('in-flight') at most this many of each list
Reply: 'task': {'OK', task fields (flat), parts (flat part, '<deadline>:<token>')};
       'stats': {'OK', open, locked, released, processing, failed, completed};
       'in-flight': {'OK', parts (flat '["task","part"]', deadline; soonest deadline first),
       processing (flat task, deadline; soonest first), released (tasks waiting for a handler, oldest first)}.
Events: none.
]]

if ARGV[1] == 'task' then
  return { 'OK', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
end
if ARGV[1] == 'in-flight' then
  local n = tonumber(ARGV[2]) - 1
  return { 'OK', redis.call('ZRANGE', KEYS[9], 0, n, 'WITHSCORES'), redis.call('ZRANGE', KEYS[6], 0, n, 'WITHSCORES'),
    redis.call('LRANGE', KEYS[5], 0, n) }
end
return { 'OK', redis.call('SCARD', KEYS[3]), redis.call('SCARD', KEYS[4]), redis.call('LLEN', KEYS[5]),
  redis.call('ZCARD', KEYS[6]), redis.call('ZCARD', KEYS[7]), tonumber(redis.call('HGET', KEYS[8], 'completed') or '0') }
