-- wrk script: plain GETs of the target URL (headers come from wrk -H).
function request()
  return wrk.format("GET", nil)
end
