// The Go side of bench/sql: GET /users returns the users table (10 rows) as JSON through
// database/sql, with lib/pq (PostgreSQL) or mattn/go-sqlite3 (SQLite) as Debian packages them
// (built in GOPATH mode by bench/sql/run). The pool is sized like cn's default for each database.
//
// Usage: users PORT DRIVER DSN     DRIVER: postgres | sqlite3
package main

import (
	"database/sql"
	"encoding/json"
	"log"
	"net/http"
	"os"

	_ "github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"
)

type user struct {
	ID    int64          `json:"id"`
	Name  string         `json:"name"`
	Email sql.NullString `json:"-"`
	Mail  *string        `json:"email"`
}

func main() {
	port, driver, dsn := os.Args[1], os.Args[2], os.Args[3]
	db, err := sql.Open(driver, dsn)
	if err != nil {
		log.Fatal(err)
	}
	max := 10
	if driver == "sqlite3" {
		max = 4
	}
	db.SetMaxOpenConns(max)
	db.SetMaxIdleConns(max)
	if err := db.Ping(); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/users", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), "SELECT id, name, email FROM users")
		if err != nil {
			http.Error(w, "internal server error", 500)
			return
		}
		defer rows.Close()
		users := []user{}
		for rows.Next() {
			var u user
			if err := rows.Scan(&u.ID, &u.Name, &u.Email); err != nil {
				http.Error(w, "internal server error", 500)
				return
			}
			if u.Email.Valid {
				u.Mail = &u.Email.String
			}
			users = append(users, u)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(users)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
