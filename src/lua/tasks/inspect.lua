--[[ tasks/inspect — read one task, or the group's counts, in one consistent snapshot.
KEYS[1] task  KEYS[2] parts  KEYS[3] open  KEYS[4] closed  KEYS[5] released  KEYS[6] processing
KEYS[7] failed  KEYS[8] stats
ARGV[1] what: 'task' or 'stats'
Reply: 'task': {'OK', task fields (flat), parts (flat part, '<deadline>:<token>')};
       'stats': {'OK', open, locked, released, processing, failed, completed}.
Events: none.
]]

if ARGV[1] == 'task' then
  return { 'OK', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
end
return { 'OK', redis.call('SCARD', KEYS[3]), redis.call('SCARD', KEYS[4]), redis.call('LLEN', KEYS[5]),
  redis.call('ZCARD', KEYS[6]), redis.call('ZCARD', KEYS[7]), tonumber(redis.call('HGET', KEYS[8], 'completed') or '0') }
