package demo
import ("context";"testing")
func TestTmpFull(t *testing.T){ js:=startJetStream(t); st,err:=Run(context.Background(),js,Options{}); if err!=nil{t.Fatal(err)}; t.Logf("%+v",st)}
