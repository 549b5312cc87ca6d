//! The one portable schema, shared by both backends (migrations/sqlite and migrations/postgres).

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        is_support -> Bool,
        created_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (user_id, org_id) {
        user_id -> Text,
        org_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(memberships -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(organizations, users, memberships);
