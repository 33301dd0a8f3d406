-- Argo CD health for dnsop.io/DNSPolicy and dnsop.io/DNSProbe: the kstatus rules both kinds follow
-- (operator/runtime/conditions.ts kstatusConditions), read in the order kstatus reads them.
--   being deleted    -> Progressing, or Degraded while Stalled=True (e.g. cleanup blocked)
--   status.observedGeneration behind metadata.generation -> Progressing (spec not seen yet)
--   Stalled=True     -> Degraded    (cannot progress until someone changes something)
--   Reconciling=True -> Progressing (work under way, or a retry after a transient error)
--   Ready=True       -> Healthy;  Ready=False -> Degraded;  no Ready yet -> Progressing
-- Argo CD opens no string library for these scripts: only base Lua is used here.
local hs = { status = "Progressing", message = "Waiting for the dnsop operator" }

local function condition(type)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c)
  local reason = c.reason or c.type
  if c.message == nil or c.message == "" then
    return reason
  end
  return reason .. ": " .. c.message
end

local stalled = condition("Stalled")
local reconciling = condition("Reconciling")

if obj.metadata.deletionTimestamp ~= nil then
  -- Being deleted: say what holds the deletion up (e.g. a cleanup that cannot reach the provider).
  hs.message = "Being deleted"
  if stalled ~= nil and stalled.status == "True" then
    hs.status = "Degraded"
    hs.message = "Being deleted; " .. describe(stalled)
  elseif reconciling ~= nil and reconciling.status == "True" then
    hs.message = "Being deleted; " .. describe(reconciling)
  end
  return hs
end

local generation = obj.metadata.generation
local observed = nil
if obj.status ~= nil then
  observed = obj.status.observedGeneration
end
if generation ~= nil and observed ~= generation then
  hs.message = "Waiting for the dnsop operator to observe generation " .. tostring(generation)
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end
return hs
