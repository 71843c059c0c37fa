// The JSON shapes clients see for profiles, companies, jobs and row errors.
#pragma once

#include <boost/json/object.hpp>

#include "common/profiles/profile.hpp"

namespace profiled {

// A user profile as GET /v1/users/{id} returns it.
boost::json::object user_to_json(const user_profile& user);
// A company as GET /v1/companies/{id} returns it.
boost::json::object company_to_json(const company_profile& company);
// The job object of DESIGN.md.
boost::json::object job_to_json(const job_record& job);
// One row error as listed under a job's /errors.
boost::json::object job_error_to_json(const job_row_error& error);

} // namespace profiled
