-- wrk script: POST /api/v1/event for 1,000 users, events that match the
-- example campaign's dice tasks (roll_5 counts them, bet_500 sums data.bet).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("QK_KEY")
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"account":"player%d","platform":"wowhaus","pid":"summer_games",' ..
    '"name":"GameSession","category":"dices","data":{"bet":%d}}',
    math.random(1, 1000), math.random(1, 50))
  return wrk.format(nil, "/api/v1/event", nil, body)
end
