--[[ queue/inspect — consistent reads: one job, or the queue's counts.
KEYS[1] job  KEYS[2] available  KEYS[3] claimed  KEYS[4] stalled  KEYS[5] delayed  KEYS[6] finished
KEYS[7] failed  KEYS[8] paused
ARGV[1] 'job' or 'stats'
Reply: 'job': {'OK', fields (flat)}; 'stats': {'OK', available, claimed, stalled, delayed, finished, failed, paused}.
Events: none.
]]

if ARGV[1] == 'job' then return { 'OK', redis.call('HGETALL', KEYS[1]) } end
return { 'OK', redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]), redis.call('ZCARD', KEYS[7]), redis.call('EXISTS', KEYS[8]) }
