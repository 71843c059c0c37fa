#include "common/store/postgres/profile_upserts.hpp"

#include <array>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/profiles/ids.hpp"

namespace profiled {

namespace {

// A set at least this large without a repeated id is upserted without folding (no GROUP BY and its ordered
// aggregates, a third of the statement's time); smaller ones are folded, where running a batch again now and
// then would cost more than the folding.
constexpr std::size_t unfolded_from_rows = 1000;

// The SQLSTATE of ON CONFLICT DO UPDATE meeting one row twice in one statement (cardinality_violation).
constexpr std::string_view row_met_twice = "21000";

// "$n" for the nth parameter.
std::string param(int n) { return "$" + std::to_string(n); }

// The users' changes as rows ur(project_id, user_id after its alias, n, now, public_id, email, phone, company_id,
// properties, origin), from nine array parameters starting at first; n is the change's place in the arrays.
std::string user_rows(int first)
{
    return "SELECT r.project_id, coalesce(a.user_id, r.user_id) AS user_id, r.n, r.now, r.public_id, r.email, "
           "r.phone, r.company_id, r.properties, r.origin FROM unnest(" +
           param(first) + "::bigint[], " + param(first + 1) + "::bigint[], " + param(first + 2) + "::text[], " +
           param(first + 3) + "::text[], " + param(first + 4) + "::text[], " + param(first + 5) + "::text[], " +
           param(first + 6) + "::text[], " + param(first + 7) + "::jsonb[], " + param(first + 8) +
           "::jsonb[]) WITH ORDINALITY AS r(project_id, now, user_id, public_id, email, phone, company_id, "
           "properties, origin, n) LEFT JOIN aliases a ON a.project_id = r.project_id AND a.alias_id = r.user_id";
}

// The insert-or-merge of the rows of ur, one per user (its changes folded in order) unless unfolded.
std::string user_insert(bool unfolded)
{
    std::string rows = unfolded ? "SELECT project_id, user_id, public_id, email, phone, company_id, properties, "
                                  "origin, now, now FROM ur "
                                : "SELECT project_id, user_id, min(public_id), profiled_last_given(email ORDER BY n), "
                                  "profiled_last_given(phone ORDER BY n), profiled_last_given(company_id ORDER BY n), "
                                  "profiled_merged(properties ORDER BY n), profiled_merged(origin ORDER BY n), "
                                  "min(now), max(now) FROM ur GROUP BY project_id, user_id ";
    return "INSERT INTO users AS u (project_id, user_id, public_id, email, phone, company_id, properties, origin, "
           "created_at, updated_at) " +
           rows +
           "ORDER BY project_id, user_id COLLATE \"C\" "
           "ON CONFLICT (project_id, user_id) DO UPDATE SET email = coalesce(excluded.email, u.email), "
           "phone = coalesce(excluded.phone, u.phone), company_id = coalesce(excluded.company_id, u.company_id), "
           "properties = u.properties || excluded.properties, origin = u.origin || excluded.origin, "
           "updated_at = excluded.updated_at";
}

// The companies' changes as rows cr(project_id, now, company_id, properties, n) from four array parameters.
std::string company_rows(int first)
{
    return "SELECT project_id, now, company_id, properties, n FROM unnest(" + param(first) + "::bigint[], " +
           param(first + 1) + "::bigint[], " + param(first + 2) + "::text[], " + param(first + 3) +
           "::jsonb[]) WITH ORDINALITY AS r(project_id, now, company_id, properties, n)";
}

// The insert-or-merge of the rows of cr, one per company (its changes folded in order) unless unfolded.
std::string company_insert(bool unfolded)
{
    std::string rows = unfolded ? "SELECT project_id, company_id, properties, now, now FROM cr "
                                : "SELECT project_id, company_id, profiled_merged(properties ORDER BY n), min(now), "
                                  "max(now) FROM cr GROUP BY project_id, company_id ";
    return "INSERT INTO companies AS c (project_id, company_id, properties, created_at, updated_at) " + rows +
           "ORDER BY project_id, company_id COLLATE \"C\" "
           "ON CONFLICT (project_id, company_id) DO UPDATE SET properties = c.properties || excluded.properties, "
           "updated_at = excluded.updated_at";
}

// How one statement is shaped: which tables it writes, and which of them unfolded.
struct statement_shape {
    bool users = false;
    bool companies = false;
    bool users_unfolded = false;
    bool companies_unfolded = false;

    int index() const { return users | companies << 1 | users_unfolded << 2 | companies_unfolded << 3; }
};

// The statement of the shape. Companies (parameters $1-$4) are the main statement and the users ($5-$13, or
// $1-$9 alone) a data-modifying WITH that PostgreSQL runs after it: companies' rows are locked before users', as
// when a batch writes them in two statements.
std::string statement_text(statement_shape shape)
{
    if (!shape.companies)
        return "WITH ur AS (" + user_rows(1) + ") " + user_insert(shape.users_unfolded);
    std::string with = "WITH cr AS (" + company_rows(1) + ")";
    if (shape.users)
        with += ", ur AS (" + user_rows(5) + "), users_written AS (" + user_insert(shape.users_unfolded) + ")";
    return with + " " + company_insert(shape.companies_unfolded);
}

// The cached text of the statement of the shape (the connection prepares it once by that text).
const std::string& statement(statement_shape shape)
{
    static const auto texts = [] {
        std::array<std::string, 16> all;
        for (int i = 1; i < 16; ++i) {
            statement_shape s{(i & 1) != 0, (i & 2) != 0, (i & 4) != 0, (i & 8) != 0};
            if (s.users || s.companies)
                all[static_cast<std::size_t>(i)] = statement_text(s);
        }
        return all;
    }();
    return texts[static_cast<std::size_t>(shape.index())];
}

// A PostgreSQL array literal built value by value (as array_literal, without a vector of copies between).
class array_text {
public:
    array_text() : text_("{") {}
    void add_text(std::string_view value)
    {
        separate();
        // Written through a pointer into room for the worst case (every character escaped), then cut to size:
        // a chunk's properties are megabytes, and one append per character is most of the writer's time.
        std::size_t at = text_.size();
        text_.resize(at + 2 * value.size() + 2);
        char* out = text_.data() + at;
        *out++ = '"';
        for (char c : value) {
            if (c == '"' || c == '\\')
                *out++ = '\\';
            *out++ = c;
        }
        *out++ = '"';
        text_.resize(static_cast<std::size_t>(out - text_.data()));
    }
    // A JSON object's text, with the \u0000 escapes jsonb cannot hold replaced (copied only when it has one).
    void add_json(std::string_view json)
    {
        if (json.find("\\u0000") == std::string_view::npos)
            return add_text(json);
        add_text(jsonb_text(json));
    }
    void add_optional(const std::optional<std::string>& value)
    {
        if (value)
            return add_text(*value);
        separate();
        text_ += "NULL";
    }
    void add_number(std::int64_t value)
    {
        separate();
        text_ += std::to_string(value);
    }
    // The finished literal.
    pg_param done() { return std::move(text_) + '}'; }

private:
    void separate()
    {
        if (text_.size() > 1)
            text_ += ',';
    }
    std::string text_;
};

// Whether some project's id repeats among the rows of the operations of type Op (each id read by id_of).
template <typename Op, typename IdOf>
bool repeats_an_id(const std::vector<const store_operation*>& upserts, IdOf id_of)
{
    std::unordered_map<std::int64_t, std::unordered_set<std::string_view>> seen;
    for (const auto* op : upserts) {
        const auto* u = std::get_if<Op>(op);
        if (!u)
            continue;
        auto& ids = seen[u->project_id];
        for (const auto& row : u->rows)
            if (!ids.insert(id_of(row)).second)
                return true;
    }
    return false;
}

// The statement's parameters: the companies' four arrays, then the users' nine.
std::vector<pg_param> statement_params(const std::vector<const store_operation*>& upserts, statement_shape shape)
{
    std::vector<pg_param> params;
    if (shape.companies) {
        array_text projects, nows, ids, properties;
        for (const auto* op : upserts) {
            const auto* c = std::get_if<upsert_companies>(op);
            if (!c)
                continue;
            for (const auto& row : c->rows) {
                projects.add_number(c->project_id);
                nows.add_number(c->now);
                ids.add_text(row.company_id);
                properties.add_json(row.properties);
            }
        }
        for (auto* a : {&projects, &nows, &ids, &properties})
            params.push_back(a->done());
    }
    if (shape.users) {
        // The proposed internal id is kept only by a new row.
        array_text projects, nows, ids, public_ids, emails, phones, companies, properties, origins;
        for (const auto* op : upserts) {
            const auto* u = std::get_if<upsert_users>(op);
            if (!u)
                continue;
            for (const auto& row : u->rows) {
                projects.add_number(u->project_id);
                nows.add_number(u->now);
                ids.add_text(row.user_id);
                public_ids.add_text(new_user_public_id());
                emails.add_optional(row.email);
                phones.add_optional(row.phone);
                companies.add_optional(row.company_id);
                properties.add_json(row.properties);
                origins.add_json(row.origin);
            }
        }
        for (auto* a : {&projects, &nows, &ids, &public_ids, &emails, &phones, &companies, &properties, &origins})
            params.push_back(a->done());
    }
    return params;
}

} // namespace

bool pg_foldable_upsert(const store_operation& op)
{
    if (const auto* u = std::get_if<upsert_users>(&op))
        return !u->report_outcomes;
    return std::holds_alternative<upsert_companies>(op);
}

void pg_upsert_profiles(pg_connection& db, const std::vector<const store_operation*>& upserts, bool may_unfold)
{
    statement_shape shape;
    std::size_t users = 0, companies = 0;
    for (const auto* op : upserts) {
        if (const auto* u = std::get_if<upsert_users>(op))
            users += u->rows.size();
        else if (const auto* c = std::get_if<upsert_companies>(op))
            companies += c->rows.size();
    }
    shape.users = users != 0;
    shape.companies = companies != 0;
    if (!shape.users && !shape.companies)
        return;
    shape.users_unfolded = may_unfold && users >= unfolded_from_rows &&
                           !repeats_an_id<upsert_users>(upserts, [](const user_upsert& r) {
                               return std::string_view(r.user_id);
                           });
    shape.companies_unfolded = may_unfold && companies >= unfolded_from_rows &&
                               !repeats_an_id<upsert_companies>(upserts, [](const company_upsert& r) {
                                   return std::string_view(r.company_id);
                               });
    db.query_params(statement(shape), statement_params(upserts, shape));
}

bool pg_met_a_row_twice(const postgres_error& e) { return e.sqlstate() == row_met_twice; }

void pg_upsert_users_reporting(pg_connection& db, const upsert_users& upsert, std::vector<upsert_outcome>& outcomes)
{
    static const std::string sql = statement({true, false, false, false}) + " RETURNING u.public_id";
    outcomes.reserve(outcomes.size() + upsert.rows.size());
    for (const auto& row : upsert.rows) {
        std::string public_id = new_user_public_id();
        array_text project, now, id, public_ids, email, phone, company, properties, origin;
        project.add_number(upsert.project_id);
        now.add_number(upsert.now);
        id.add_text(row.user_id);
        public_ids.add_text(public_id);
        email.add_optional(row.email);
        phone.add_optional(row.phone);
        company.add_optional(row.company_id);
        properties.add_json(row.properties);
        origin.add_json(row.origin);
        auto r = db.query_params(sql, {project.done(), now.done(), id.done(), public_ids.done(), email.done(),
                                       phone.done(), company.done(), properties.done(), origin.done()});
        std::string kept = r.text(0, 0);
        bool created = kept == public_id;
        outcomes.push_back({created, std::move(kept)});
    }
}

} // namespace profiled
