// cf-host runs a cf CLI plugin the way cf does (PROTOCOLS.md §9), for tests: it serves cf's
// plugin RPC (Go net/rpc, gob, service CliRpcCmd) on 127.0.0.1 from a small JSON session,
// and starts the plugin binary with the port.
//
//	cf-host [-config JSON|FILE] [-log FILE] PLUGIN                 install check; prints the metadata as JSON
//	cf-host [-config JSON|FILE] [-log FILE] PLUGIN COMMAND ARGS... install check, then runs the command
//	cf-host -uninstall PLUGIN                                      what cf uninstall-plugin runs
//
// The install check is cf's: `PLUGIN PORT SendMetadata` (stdin not connected), then a
// non-empty Name, at least one command, LibraryVersion.Major <= 1 and no command name or alias
// that is a cf core command. A command runs as `PLUGIN PORT NAME ARGS...` (an alias given as
// COMMAND becomes the name) with stdin, stdout and stderr passed through; a non-zero exit of
// the plugin makes cf-host exit 1, as cf does.
//
// The session (-config), every field optional:
//
//	{"api": "https://api.example.com", "token": "eyJ...", "username": "me",
//	 "orgGuid": "...", "orgName": "my-org", "spaceGuid": "...", "spaceName": "dev",
//	 "sslDisabled": false, "apiVersion": "3.180.0",
//	 "coreCommands": {"ssh-code": ["output line", "..."]}}
//
// coreCommands are the canned outputs of CliCommand(args...), keyed by the args joined with
// spaces. -log appends one line per RPC call (the method and its argument, never a token).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The types cf and its plugins exchange (cf's plugin/plugin.go and plugin/models): gob matches
// struct fields by name, so these names are the protocol.

type VersionType struct {
	Major int
	Minor int
	Build int
}

type PluginMetadata struct {
	Name           string
	Version        VersionType
	LibraryVersion VersionType
	MinCliVersion  VersionType
	Commands       []Command
}

type Usage struct {
	Usage   string
	Options map[string]string
}

type Command struct {
	Name         string
	Alias        string
	HelpText     string
	UsageDetails Usage
}

type Organization struct {
	OrganizationFields
}

type OrganizationFields struct {
	Guid            string
	Name            string
	QuotaDefinition QuotaFields
}

type QuotaFields struct {
	Guid                    string
	Name                    string
	MemoryLimit             int64
	InstanceMemoryLimit     int64
	RoutesLimit             int
	ServicesLimit           int
	NonBasicServicesAllowed bool
}

type Space struct {
	SpaceFields
}

type SpaceFields struct {
	Guid string
	Name string
}

// Session is what cf's config.json would say.
type Session struct {
	API          string              `json:"api"`
	Token        string              `json:"token"`
	Username     string              `json:"username"`
	UserGuid     string              `json:"userGuid"`
	UserEmail    string              `json:"userEmail"`
	OrgGuid      string              `json:"orgGuid"`
	OrgName      string              `json:"orgName"`
	SpaceGuid    string              `json:"spaceGuid"`
	SpaceName    string              `json:"spaceName"`
	SSLDisabled  bool                `json:"sslDisabled"`
	APIVersion   string              `json:"apiVersion"`
	CoreCommands map[string][]string `json:"coreCommands"`
}

// CliRpcCmd is the RPC service, with cf's method names and argument types.
type CliRpcCmd struct {
	session  Session
	log      func(method, arg string)
	mu       sync.Mutex
	metadata *PluginMetadata
	quiet    bool
	output   []string
}

func (c *CliRpcCmd) SetPluginMetadata(m PluginMetadata, ok *bool) error {
	c.log("SetPluginMetadata", m.Name)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.metadata = &m
	*ok = true
	return nil
}

func (c *CliRpcCmd) IsMinCliVersion(version string, ok *bool) error {
	c.log("IsMinCliVersion", version)
	*ok = true
	return nil
}

func (c *CliRpcCmd) DisableTerminalOutput(disable bool, ok *bool) error {
	c.log("DisableTerminalOutput", strconv.FormatBool(disable))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.quiet = disable
	*ok = true
	return nil
}

// CallCoreCommand answers from coreCommands; cf runs its own command there. Like cf, a name
// that is not a core command gives false without an error.
func (c *CliRpcCmd) CallCoreCommand(args []string, ok *bool) error {
	c.log("CallCoreCommand", strings.Join(args, " "))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.output = nil
	if len(args) == 0 || !coreCommands[args[0]] {
		*ok = false
		return nil
	}
	lines, found := c.session.CoreCommands[strings.Join(args, " ")]
	if !found {
		return fmt.Errorf("cf-host has no output for 'cf %s' (add it to coreCommands)", strings.Join(args, " "))
	}
	c.output = lines
	if !c.quiet {
		for _, line := range lines {
			fmt.Println(line)
		}
	}
	*ok = true
	return nil
}

func (c *CliRpcCmd) GetOutputAndReset(_ bool, lines *[]string) error {
	c.log("GetOutputAndReset", "")
	c.mu.Lock()
	defer c.mu.Unlock()
	*lines = append([]string{}, c.output...)
	if len(*lines) == 0 {
		*lines = []string{""} // cf splits an empty buffer: one empty line
	}
	return nil
}

func (c *CliRpcCmd) GetCurrentOrg(_ string, org *Organization) error {
	c.log("GetCurrentOrg", "")
	org.Guid, org.Name = c.session.OrgGuid, c.session.OrgName
	return nil
}

func (c *CliRpcCmd) GetCurrentSpace(_ string, space *Space) error {
	c.log("GetCurrentSpace", "")
	space.Guid, space.Name = c.session.SpaceGuid, c.session.SpaceName
	return nil
}

func (c *CliRpcCmd) str(method, value string, out *string) error {
	c.log(method, "")
	*out = value
	return nil
}

func (c *CliRpcCmd) flag(method string, value bool, out *bool) error {
	c.log(method, "")
	*out = value
	return nil
}

func (c *CliRpcCmd) Username(_ string, out *string) error {
	return c.str("Username", c.session.Username, out)
}
func (c *CliRpcCmd) UserGuid(_ string, out *string) error {
	return c.str("UserGuid", c.session.UserGuid, out)
}
func (c *CliRpcCmd) UserEmail(_ string, out *string) error {
	return c.str("UserEmail", c.session.UserEmail, out)
}
func (c *CliRpcCmd) ApiEndpoint(_ string, out *string) error {
	return c.str("ApiEndpoint", c.session.API, out)
}
func (c *CliRpcCmd) ApiVersion(_ string, out *string) error {
	return c.str("ApiVersion", c.session.APIVersion, out)
}
func (c *CliRpcCmd) DopplerEndpoint(_ string, out *string) error {
	return c.str("DopplerEndpoint", "", out)
}
func (c *CliRpcCmd) LoggregatorEndpoint(_ string, out *string) error {
	return c.str("LoggregatorEndpoint", "", out)
}

// AccessToken: cf refreshes the token first and answers "bearer ...".
func (c *CliRpcCmd) AccessToken(_ string, out *string) error {
	token := c.session.Token
	if token != "" && !strings.HasPrefix(strings.ToLower(token), "bearer ") {
		token = "bearer " + token
	}
	return c.str("AccessToken", token, out)
}

func (c *CliRpcCmd) IsLoggedIn(_ string, out *bool) error {
	return c.flag("IsLoggedIn", c.session.Token != "", out)
}
func (c *CliRpcCmd) IsSSLDisabled(_ string, out *bool) error {
	return c.flag("IsSSLDisabled", c.session.SSLDisabled, out)
}
func (c *CliRpcCmd) HasOrganization(_ string, out *bool) error {
	return c.flag("HasOrganization", c.session.OrgGuid != "", out)
}
func (c *CliRpcCmd) HasSpace(_ string, out *bool) error {
	return c.flag("HasSpace", c.session.SpaceGuid != "", out)
}
func (c *CliRpcCmd) HasAPIEndpoint(_ string, out *bool) error {
	return c.flag("HasAPIEndpoint", c.session.API != "", out)
}

// serve listens on 127.0.0.1 (a free port) and serves each connection, as cf does.
func serve(service *CliRpcCmd) (net.Listener, string) {
	server := rpc.NewServer()
	if err := server.Register(service); err != nil {
		fatal(err.Error())
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err.Error())
	}
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go server.ServeConn(conn)
		}
	}()
	return listener, strconv.Itoa(listener.Addr().(*net.TCPAddr).Port)
}

// installCheck is cf install-plugin's: cf's messages, exit 1 on failure.
func installCheck(plugin string, service *CliRpcCmd, port string) PluginMetadata {
	cmd := exec.Command(plugin, port, "SendMetadata")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	service.mu.Lock()
	m := service.metadata
	service.mu.Unlock()
	if err != nil {
		fatal(fmt.Sprintf("%v\nFile is not a valid cf CLI plugin binary.", err))
	}
	if m == nil || m.Name == "" || len(m.Commands) == 0 {
		fatal("File is not a valid cf CLI plugin binary.")
	}
	if m.LibraryVersion != (VersionType{}) && m.LibraryVersion.Major > 1 {
		fatal("This plugin is not compatible with this version of the CLI")
	}
	var names, aliases []string
	for _, c := range m.Commands {
		if coreCommands[c.Name] {
			names = append(names, c.Name)
		}
		if coreCommands[c.Alias] {
			aliases = append(aliases, c.Alias)
		}
	}
	sort.Strings(names)
	sort.Strings(aliases)
	version := fmt.Sprintf("%d.%d.%d", m.Version.Major, m.Version.Minor, m.Version.Build)
	switch {
	case len(names) > 0 && len(aliases) > 0:
		fatal(fmt.Sprintf("Plugin %s v%s could not be installed as it contains commands with names and aliases that are already used: %s.", m.Name, version, strings.Join(append(names, aliases...), ", ")))
	case len(names) > 0:
		fatal(fmt.Sprintf("Plugin %s v%s could not be installed as it contains commands with names that are already used: %s.", m.Name, version, strings.Join(names, ", ")))
	case len(aliases) > 0:
		fatal(fmt.Sprintf("Plugin %s v%s could not be installed as it contains commands with aliases that are already used: %s.", m.Name, version, strings.Join(aliases, ", ")))
	}
	return *m
}

// run starts the plugin with the terminal's streams and returns cf's exit code. A stop signal
// ends cf at once (the plugin, in the same process group, gets it too), so the RPC server goes
// away; cf-host then waits for the plugin before exiting, so tests see its cleanup finish.
func run(plugin string, args []string, listener net.Listener) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	cmd := exec.Command(plugin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var stopped os.Signal
	for {
		select {
		case sig := <-signals:
			if stopped == nil {
				stopped = sig
				listener.Close()
			}
		case err := <-done:
			if stopped != nil {
				return 128 + int(stopped.(syscall.Signal))
			}
			if err != nil {
				return 1
			}
			return 0
		}
	}
}

func fatal(message string) {
	fmt.Fprintln(os.Stderr, message)
	fmt.Println("FAILED")
	os.Exit(1)
}

func loadSession(config string) Session {
	var session Session
	if config == "" {
		return session
	}
	text := []byte(config)
	if !strings.HasPrefix(strings.TrimSpace(config), "{") {
		var err error
		if text, err = os.ReadFile(config); err != nil {
			fatal(err.Error())
		}
	}
	if err := json.Unmarshal(text, &session); err != nil {
		fatal("cf-host: -config: " + err.Error())
	}
	return session
}

func main() {
	config := flag.String("config", "", "the session, as JSON or a JSON file")
	logFile := flag.String("log", "", "append each RPC call to this file")
	uninstall := flag.Bool("uninstall", false, "run the plugin's uninstall hook")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: cf-host [-config JSON|FILE] [-log FILE] PLUGIN [COMMAND ARGS...] | cf-host -uninstall PLUGIN")
		os.Exit(2)
	}
	plugin, args := flag.Arg(0), flag.Args()[1:]

	var logMu sync.Mutex
	log := func(method, arg string) {
		if *logFile == "" {
			return
		}
		logMu.Lock()
		defer logMu.Unlock()
		f, err := os.OpenFile(*logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, strings.TrimSpace(method+" "+arg))
			f.Close()
		}
	}
	service := &CliRpcCmd{session: loadSession(*config), log: log}
	listener, port := serve(service)
	defer listener.Close()

	if *uninstall {
		cmd := exec.Command(plugin, port, "CLI-MESSAGE-UNINSTALL")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fatal(fmt.Sprintf("The plugin's uninstall method returned an unexpected error.\nThe plugin uninstall will proceed. Contact the plugin author if you need help.\n%v", err))
		}
		return
	}

	metadata := installCheck(plugin, service, port)
	if len(args) == 0 {
		out, _ := json.MarshalIndent(metadata, "", "  ")
		fmt.Println(string(out))
		return
	}
	for _, c := range metadata.Commands {
		if c.Name == args[0] || (c.Alias != "" && c.Alias == args[0]) {
			args[0] = c.Name
			code := run(plugin, append([]string{port}, args...), listener)
			os.Exit(code)
		}
	}
	fatal(fmt.Sprintf("'%s' is not a registered command. See 'cf help -a'", args[0]))
}
