-- Job queue state shared by the queue/* scripts. All keys of a queue share the tag {q:<name>}.
-- Per job: `job` hash (state, data, createdAt; availableAt once made available again or delayed;
-- tp, the publisher's trace context, only when its publish was traced; priority, attempts, backoff, timeout only when not
-- their defaults; attempt, cancelCount, stalls once counted; owner, deadline and score (its place
-- in `available`) of the claim, left on finished jobs; result, error, timestamps). Per queue:
-- sorted sets `available` (score: priority first, then publish order), `claimed` (lease
-- deadline), `delayed` (due time), `stalled`, `finished`, `failed` (time); `wake` list (one marker
-- per job made available, and one a full claim leaves while jobs remain: claimers block on it);
-- `seq` counter; `paused` flag; `events` stream; `claim-guard:<id>` lists (see queue/claim).
-- Retention (finished/failed: max count and age) comes in ARGV.
--@include lib/clock.lua
--@include lib/events.lua
--@include lib/claims.lua

-- higher priority first; within one priority, publish order (2^41 publishes per priority)
local PRIORITY_SPAN = 2199023255552
-- the longest retry delay (ms), as publish's check of backoff.delay and backoff.max: a factor
-- cannot grow a delay past it
local MAX_BACKOFF_MS = 2147483647

-- The `available` score of the job published `seq`-th with `priority` (missing = 0).
local function available_score(priority, seq)
  return -(tonumber(priority) or 0) * PRIORITY_SPAN + seq
end

-- Queue `id` in priority order and wake one claimer. `availableAt` (since when it waits) is what
-- the claim's wait time and the queue latency are measured from.
local function make_available(k, job_key, id, priority)
  redis.call('ZADD', k.available, available_score(priority, redis.call('INCR', k.seq)), id)
  redis.call('RPUSH', k.wake, '1')
  redis.call('HSET', job_key, 'state', 'available', 'availableAt', now_ms())
end

-- Remove `id` from every state set (retract, and before moving it between states).
local function leave_all_states(k, id)
  for _, key in ipairs({ k.available, k.claimed, k.delayed, k.stalled, k.finished, k.failed }) do
    redis.call('ZREM', key, id)
  end
end

-- Delete jobs `ids` of state set `set` (a few calls, whatever their number).
local function drop_jobs(base, set, ids)
  if #ids == 0 then return 0 end
  local keys = {}
  for i, id in ipairs(ids) do keys[i] = base .. ':job:' .. id end
  redis.call('DEL', unpack(keys))
  redis.call('ZREM', set, unpack(ids))
  return #ids
end

-- Drop finished/failed jobs beyond the queue's retention (count, age), oldest first, at most `limit`.
-- The count is enforced in steps (once a tenth over it), so a steady stream does not pay a trim
-- on every finish: at most max_count + max_count / 10 + 1 are kept.
local function trim_done(k, base, set, max_count, max_age, limit)
  local dropped = 0
  if max_count >= 0 then
    local excess = redis.call('ZCARD', set) - max_count
    if excess > math.floor(max_count / 10) then
      dropped = drop_jobs(base, set, redis.call('ZRANGE', set, 0, math.min(excess, limit) - 1))
    end
  end
  if max_age >= 0 then
    dropped = dropped + drop_jobs(base, set, redis.call('ZRANGEBYSCORE', set, '-inf', now_ms() - max_age, 'LIMIT', 0, limit))
  end
  return dropped
end

-- An attempt ended without success (handler threw, timed out, or its lease ran out): retry after
-- the backoff while attempts are left, else the job has failed. Returns 'delayed', due time |
-- 'failed'.
local function fail_job(k, job_key, id, error_text, jitter)
  -- everything that can fail is computed before the first write (Redis does not undo writes)
  local f = redis.call('HMGET', job_key, 'attempts', 'attempt', 'backoff')
  local attempts, attempt = tonumber(f[1]) or 1, tonumber(f[2]) or 0
  local delay = 0
  if attempt < attempts then
    local backoff = f[3] and cjson.decode(f[3]) or {}
    local base_delay, factor, max = tonumber(backoff.delay) or 0, tonumber(backoff.factor) or 2, tonumber(backoff.max)
    -- a zero delay stays zero however large the factor's power (0 * inf is not a number)
    if base_delay > 0 then delay = base_delay * math.pow(factor, attempt - 1) end
    delay = math.min(delay, max or MAX_BACKOFF_MS, MAX_BACKOFF_MS)
    -- jitter (a random number the client sends): up to a quarter of the delay, so retries spread out
    delay = math.floor(delay * (1 - jitter * 0.25))
  end
  end_claim(k.claimed, job_key, id)
  redis.call('HSET', job_key, 'error', error_text)
  if attempt < attempts then
    redis.call('HSET', job_key, 'state', 'delayed', 'availableAt', now_ms() + delay)
    redis.call('ZADD', k.delayed, now_ms() + delay, id)
    emit(k, 'type', 'retry', 'id', id, 'error', error_text, 'attempt', attempt)
    return 'delayed', now_ms() + delay
  end
  redis.call('HSET', job_key, 'state', 'failed', 'failedAt', now_ms())
  redis.call('ZADD', k.failed, now_ms(), id)
  emit(k, 'type', 'failed', 'id', id, 'error', error_text)
  return 'failed'
end
