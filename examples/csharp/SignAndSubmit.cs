// Signs an e-invoice (HDon) with System.Security.Cryptography.Xml.SignedXml and submits it to
// Hoadon. The signature follows the profile of docs/spec/invoice-format.md §4:
//   - one Signature in DSCKS/NBan, rsa-sha256, C14N 1.0, the signer's certificate in KeyInfo;
//   - Reference 1: "#<DLHDon/@Id>", transforms enveloped-signature + C14N, sha256;
//   - Reference 2: "#<Object/@Id>", the Signature's own Object holding the SigningTime
//     (GMT+7, no offset), transform C14N ONLY. Do not put the enveloped-signature transform on
//     this Reference: .NET digests the Object anyway, but xmlsec1 and other verifiers read it
//     as an empty node-set, so the signature would not verify everywhere (see docs/signing.md).
//
// Build and run (Mono on Debian: apt-get install mono-mcs libmono-system-security4.0-cil;
// on .NET 6+ the same code compiles in a console project with the
// System.Security.Cryptography.Xml package):
//   mcs -r:System.Security.dll -out:SignAndSubmit.exe SignAndSubmit.cs
//   mono SignAndSubmit.exe invoice.xml seller.p12 PASSWORD http://127.0.0.1:8080 hdk_… [signed.xml]
// Exit status 0 when the service issued the invoice (201) or replayed it (200), 1 otherwise.
using System;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;

public static class SignAndSubmit
{
    const string DsigNs = SignedXml.XmlDsigNamespaceUrl; // http://www.w3.org/2000/09/xmldsig#
    const string RsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    const string Sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";

    public static string Sign(string invoiceXml, X509Certificate2 cert)
    {
        var doc = new XmlDocument { PreserveWhitespace = true }; // never reformat signed data
        doc.LoadXml(invoiceXml);
        var hdon = doc.DocumentElement;
        var dlhdon = (XmlElement)hdon.SelectSingleNode("DLHDon");
        string dataId = dlhdon.GetAttribute("Id");
        var dscks = (XmlElement)hdon.SelectSingleNode("DSCKS") ?? (XmlElement)hdon.AppendChild(doc.CreateElement("DSCKS"));
        var nban = (XmlElement)dscks.SelectSingleNode("NBan") ?? (XmlElement)dscks.AppendChild(doc.CreateElement("NBan"));

        string sigId = "Signature-" + Guid.NewGuid().ToString("N");
        string objId = "SigningTime-" + Guid.NewGuid().ToString("N");

        var signed = new SignedXml(doc) { SigningKey = cert.GetRSAPrivateKey() };
        signed.Signature.Id = sigId;
        signed.SignedInfo.CanonicalizationMethod = SignedXml.XmlDsigC14NTransformUrl;
        signed.SignedInfo.SignatureMethod = RsaSha256;

        var data = new Reference("#" + dataId) { DigestMethod = Sha256 };
        data.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        data.AddTransform(new XmlDsigC14NTransform());
        signed.AddReference(data);

        // The SigningTime: Object/SignatureProperties/SignatureProperty/SigningTime, all in the
        // XMLDSig namespace (they sit inside the Signature's default namespace).
        string now = DateTime.UtcNow.AddHours(7).ToString("yyyy-MM-dd'T'HH:mm:ss");
        var props = doc.CreateElement("SignatureProperties", DsigNs);
        var prop = (XmlElement)props.AppendChild(doc.CreateElement("SignatureProperty", DsigNs));
        prop.SetAttribute("Target", "#" + sigId);
        prop.AppendChild(doc.CreateElement("SigningTime", DsigNs)).InnerText = now;
        var obj = new DataObject { Id = objId, Data = props.SelectNodes(".") };
        signed.AddObject(obj);
        var time = new Reference("#" + objId) { DigestMethod = Sha256 };
        time.AddTransform(new XmlDsigC14NTransform()); // C14N only: no enveloped-signature here
        signed.AddReference(time);

        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(cert)); // the signer's certificate alone
        signed.KeyInfo = keyInfo;

        signed.ComputeSignature();
        nban.AppendChild(doc.ImportNode(signed.GetXml(), true));
        return doc.OuterXml;
    }

    public static int Main(string[] args)
    {
        if (args.Length < 5)
        {
            Console.Error.WriteLine("usage: SignAndSubmit invoice.xml seller.p12 password baseUrl apiKey [signed.xml]");
            return 2;
        }
        var cert = new X509Certificate2(args[1], args[2], X509KeyStorageFlags.Exportable);
        string xml = Sign(File.ReadAllText(args[0], Encoding.UTF8), cert);
        if (args.Length > 5) File.WriteAllText(args[5], xml, new UTF8Encoding(false));

        var req = (HttpWebRequest)WebRequest.Create(args[3].TrimEnd('/') + "/v1/invoices");
        req.Method = "POST";
        req.ContentType = "application/xml";
        req.Headers["Authorization"] = "Bearer " + args[4];
        byte[] bytes = new UTF8Encoding(false).GetBytes(xml);
        using (var s = req.GetRequestStream()) s.Write(bytes, 0, bytes.Length);
        HttpWebResponse res;
        try { res = (HttpWebResponse)req.GetResponse(); }
        catch (WebException e) when (e.Response != null) { res = (HttpWebResponse)e.Response; } // 4xx/5xx: read the error envelope
        using (res)
        using (var reader = new StreamReader(res.GetResponseStream(), Encoding.UTF8))
        {
            int status = (int)res.StatusCode;
            Console.WriteLine(status);
            Console.WriteLine(reader.ReadToEnd());
            return status == 201 || status == 200 ? 0 : 1;
        }
    }
}
